#pragma once

#include <string_view>
#include <vector>

#include "extender/core/pod_request.h"
#include "extender/kube/api_objects.h"
#include "extender/kube/bound_pod_requests.h"
#include "extender/kube/informer.h"
#include "extender/state/cluster_state.h"

namespace epc::kube {

// Pods, all namespaces, into the state writer: a relist becomes one replacing ApiPodBatch; each
// watch event of an SGX pod one small batch (ADDED/MODIFIED → upsert, DELETED → delete). The CPU
// and memory of every bound pod, SGX or not, are kept here (BoundPodRequests) and only the node
// totals an event moved travel, in the same batch (a relist sends every node's). Events that move
// neither an SGX pod nor a total (status updates, pending pods) only move the resource version.
// The writer drains its queue in batches, so one push per event costs a short lock, not a
// publish.
class PodWatchTarget final : public WatchTarget {
 public:
  PodWatchTarget(state::ClusterState& state, const core::PodRequestOptions& options);

  std::string_view path() const override { return "/api/v1/pods"; }
  std::string_view kind() const override { return "pods"; }
  void list_begin() override;
  common::Result<ListPage> list_page(std::string& body) override;
  void list_end() override;
  common::Result<EventOutcome> event(std::string_view line) override;
  void watching(bool open, bool synced) override;

 private:
  state::ClusterState& state_;
  PodDecoder decoder_;
  PodEvent event_;
  std::vector<core::ApiPod> listed_;
  std::vector<PodCpuMemory> listed_cpu_memory_;  // one page's, folded into requests_ at once
  BoundPodRequests requests_;
};

// Nodes: allocatable sgx.intel.com/* (and EPC aliases), cpu and memory, readiness, unschedulable.
class NodeWatchTarget final : public WatchTarget {
 public:
  NodeWatchTarget(state::ClusterState& state, const core::PodRequestOptions& options);

  std::string_view path() const override { return "/api/v1/nodes"; }
  std::string_view kind() const override { return "nodes"; }
  void list_begin() override;
  common::Result<ListPage> list_page(std::string& body) override;
  void list_end() override;
  common::Result<EventOutcome> event(std::string_view line) override;
  void watching(bool open, bool synced) override;

 private:
  state::ClusterState& state_;
  NodeDecoder decoder_;
  NodeEvent event_;
  std::vector<state::ApiNode> listed_;
};

}  // namespace epc::kube
