#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "extender/core/node_row.h"
#include "extender/metrics/limit.h"
#include "extender/metrics/report_refusal.h"
#include "extender/state/cluster_snapshot.h"
#include "extender/state/report_message.h"

namespace epc::metrics {

enum class Verb : std::uint8_t { kFilter, kPrioritize, kBind, kPreempt, kOther };
enum class Outcome : std::uint8_t { kOk, kError };

// How a bind verb ended (epc_extender_binds_total{result}).
enum class BindResult : std::uint8_t {
  kBound,           // the Binding was created (or the pod was already on that node)
  kNoFit,           // the reservation was refused: the pod no longer fits the node
  kInvalidRequest,  // undecodable body, invalid names, a pod nobody knows
  kApiRefused,      // kube-apiserver answered the Binding with an error status
  kApiUnreachable,  // no answer from kube-apiserver (connection, timeout, no client)
  kUnavailable,     // this extender cannot bind now (no API access, shutting down)
};

// What a preempt verb answered for an SGX preemptor (epc_extender_preemptions_total{result}).
enum class PreemptResult : std::uint8_t {
  kVictims,    // at least one node with victims whose eviction makes the pod fit
  kNoVictims,  // no node where evicting the proposed victims helps
  kNotSgx,     // the preemptor asks for no SGX resource: proposals returned unchanged
};

// The extender's Prometheus metrics. prometheus-cpp stays behind this interface: HTTP code never
// includes a prometheus header. Families and per-verb children are registered once in create();
// the request path only bumps pre-registered references.
//
// Thread-safety: observe_request() from any thread; refresh_nodes() from any thread (serialized);
// serialize() from any thread.
class Metrics {
 public:
  struct Options {
    // A node whose last report is older than this is not "up" (epc_node_up); 0 = never stale.
    std::int64_t stale_after_ns = 0;
    // Standard pod shapes (EPC, one enclave slot each) for epc_cluster_placeable_pods and friends:
    // how many more of each fit right now (core/capacity.h, the /capacity answer). Keep it short:
    // each shape is one series per family.
    std::vector<std::int64_t> capacity_shapes_epc_bytes;
  };

  static std::unique_ptr<Metrics> create();
  static std::unique_ptr<Metrics> create(Options options);
  virtual ~Metrics() = default;

  virtual void observe_request(Verb verb, Outcome outcome, double seconds) = 0;

  // Per-node gauges (EPC capacity, requested, free, live use, slots, report age); adds series for
  // new nodes and removes them for nodes that left. Report age and "up" are computed at scrape
  // time from the rows' report_time_ns, so they stay right between publications.
  virtual void refresh_nodes(const state::ClusterSnapshot& snapshot, std::int64_t now_ns,
                             const core::NodeAccounting& accounting) = 0;

  // One filter call for an SGX pod: `rejected_by_reason[r]` nodes failed with core::FitReason r
  // (index kFits unused), and `placeable` says whether any node passed. Any thread.
  virtual void observe_filter(std::span<const std::uint32_t> /*rejected_by_reason*/,
                              bool /*placeable*/) {}
  // One bind verb's end. Any thread.
  virtual void observe_bind(BindResult /*result*/) {}
  // One preempt verb answered: its result and how many victims it returned over all nodes.
  virtual void observe_preempt(PreemptResult /*result*/, std::uint32_t /*victims*/) {}

  // One NodeReport message received (epc_extender_report_messages_total). Any thread.
  virtual void observe_report_message(state::ReportKind /*kind*/, state::ReportResult /*result*/) {}

  // One input refused, or one connection or stream cut off, by a configured bound
  // (epc_extender_limit_rejections_total{limit}). Any thread.
  virtual void observe_limit(Limit /*limit*/) {}

  // One report stream or report refused for its node identity
  // (epc_extender_report_refusals_total{reason}). Any thread.
  virtual void observe_report_refusal(ReportRefusal /*reason*/) {}

  // Prometheus text exposition format 0.0.4 of everything registered.
  virtual std::string serialize() = 0;

  // Where serialize() gets the cluster from: with a source set, every scrape refreshes the
  // per-node series from the newest snapshot itself (refresh_nodes), so the state writer does no
  // metrics work per publish. Without one, only refresh_nodes() calls update them.
  using SnapshotSource = std::function<std::shared_ptr<const state::ClusterSnapshot>()>;
  virtual void set_snapshot_source(SnapshotSource /*source*/, core::NodeAccounting /*accounting*/) {
  }
};

}  // namespace epc::metrics
