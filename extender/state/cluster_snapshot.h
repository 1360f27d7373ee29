#pragma once

#include <cassert>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "extender/core/node_row.h"
#include "extender/core/pod_mix.h"
#include "extender/state/node_table.h"
#include "extender/state/pod_table.h"

namespace epc::state {

// The Error of a filter, preempt or bind that came before the state was rebuilt from the API.
inline constexpr std::string_view kNotReadyError =
    "epc-extender is not ready: the pod and node lists from the API server are not in yet, so "
    "the EPC that pods already bound use is not known (kube-scheduler retries the pod)";

// An immutable view of the cluster, published by the state writer and shared by readers: the node
// table, the recent pod mix the writer keeps from scheduler observations, and a version.
// Thread-safety: immutable after publication; any number of threads may read it concurrently.
class ClusterSnapshot {
 public:
  ClusterSnapshot()
      : nodes_(std::make_shared<NodeTable>()), pods_(std::make_shared<const PodTable>()) {}
  ClusterSnapshot(std::shared_ptr<NodeTable> nodes, std::shared_ptr<const PodTable> pods,
                  const core::PodMix& pod_mix, std::uint64_t pods_in_mix, std::uint64_t version)
      : nodes_(std::move(nodes)),
        pods_(std::move(pods)),
        pod_mix_(pod_mix),
        pods_in_mix_(pods_in_mix),
        version_(version) {}

  const NodeTable& nodes() const { return *nodes_; }
  // The table itself, for the writer when it publishes again without a node change.
  const std::shared_ptr<NodeTable>& shared_nodes() const { return nodes_; }

  // Shorthands over nodes(), for the readers' hot loops.
  const core::NodeRow& row(std::uint32_t index) const { return nodes_->row(index); }
  const NodeInfo& info(std::uint32_t index) const { return nodes_->info(index); }
  std::string_view name(std::uint32_t index) const { return nodes_->name(index); }
  std::size_t size() const { return nodes_->size(); }
  std::optional<std::uint32_t> find(std::string_view name) const { return nodes_->find(name); }

  // The SGX pods the ledger counts, by UID and node (preempt reads them).
  const PodTable& pods() const { return *pods_; }
  const std::shared_ptr<const PodTable>& shared_pods() const { return pods_; }

  // The recent mix of SGX pods prioritize saw (FragmentationAware's expectation of what comes
  // next); empty unless the writer keeps one (ClusterState::Options::keep_pod_mix).
  const core::PodMix& pod_mix() const { return pod_mix_; }
  // Pods that joined the mix since the writer started.
  std::uint64_t pods_in_mix() const { return pods_in_mix_; }

  // Increases with every publication.
  std::uint64_t version() const { return version_; }

  // False while a configured source has not delivered its first full state (the API watch's first
  // pod and node lists): /readyz answers 503 until then, and filter, preempt and bind of SGX pods
  // answer kNotReadyError, since the pods bound before this process started are not counted yet.
  bool sources_ready() const { return sources_ready_; }
  void set_sources_ready(bool ready) { sources_ready_ = ready; }

  // Builder side, for tests that make a snapshot by hand: rows go into this snapshot's own table,
  // which no other snapshot may share yet.
  void add(NodeInfo info, const core::NodeRow& row) {
    assert(nodes_.use_count() == 1);
    nodes_->add(std::move(info), row);
  }
  void reserve(std::size_t nodes) {
    assert(nodes_.use_count() == 1);
    nodes_->reserve(nodes);
  }
  void set_pod_mix(const core::PodMix& pod_mix, std::uint64_t pods_in_mix) {
    pod_mix_ = pod_mix;
    pods_in_mix_ = pods_in_mix;
  }
  void set_version(std::uint64_t version) { version_ = version; }
  void set_pods(std::shared_ptr<const PodTable> pods) { pods_ = std::move(pods); }

 private:
  // Never null. Not const because tests fill a fresh snapshot's table in place (add()); readers
  // only get const access, and the writer never changes a table once it is published.
  std::shared_ptr<NodeTable> nodes_;
  std::shared_ptr<const PodTable> pods_;  // never null
  core::PodMix pod_mix_;
  std::uint64_t pods_in_mix_ = 0;
  std::uint64_t version_ = 0;
  bool sources_ready_ = true;
};

}  // namespace epc::state
