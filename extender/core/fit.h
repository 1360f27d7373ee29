#pragma once

#include <cstdint>

#include "extender/core/checked_math.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

namespace epc::core {

// Why a pod does not fit a node. Codes, not text: the HTTP edge formats the sentence once per
// distinct code so kube-scheduler's event aggregation stays readable (house rule 6).
enum class FitReason : std::uint8_t {
  kFits,
  // Unresolvable: no preemption on this node can help.
  kNoReport,              // no report ever arrived for this node (or the node is unknown)
  kNoSgx,                 // the node reported that it has no SGX
  kEpcCapacityTooSmall,   // request > total EPC capacity (minus headroom)
  kEnclaveSlotsTooFew,    // request > total enclave slots
  kProvisionSlotsTooFew,  // request > total provision slots
  // Resolvable: may change when pods leave or the node reports again.
  kStaleReport,      // last report older than the staleness threshold
  kUnhealthy,        // the plugin reports its SGX devices unhealthy
  kInsufficientEpc,  // not enough free EPC now
  kInsufficientEnclaveSlots,
  kInsufficientProvisionSlots,
};

inline constexpr int kFitReasonCount = 11;

struct FitContext {
  std::int64_t now_ns = 0;          // the caller's monotonic clock
  std::int64_t stale_after_ns = 0;  // a report older than this is not trusted; 0 = never stale
  NodeAccounting accounting;
};

struct FitResult {
  FitReason reason = FitReason::kFits;
  bool unresolvable = false;
  // The resource named by `reason` (bytes for EPC, count for slots; report age in ns for stale).
  //   EPC reasons:   requested = pod's EPC, available = free EPC, capacity = capacity − headroom.
  //   slot reasons:  requested = pod's slots, available = free slots, capacity = total slots.
  //   kStaleReport:  requested = report age (ns), available = 0, capacity = stale_after_ns.
  //   kNoReport, kNoSgx, kUnhealthy, kFits: all zero.
  std::int64_t requested = 0;
  std::int64_t available = 0;
  std::int64_t capacity = 0;

  bool fits() const { return reason == FitReason::kFits; }
};

// Whether a node's report can be trusted for placement at `now_ns`: the node reported, has SGX, its
// devices are healthy, and its last report is not older than `stale_after_ns` (0 = never stale).
// kFits when trusted, else the first failing reason in that order. fit() starts with this test and
// the metrics' epc_node_up is this test, so "up" and "schedulable" cannot drift apart.
inline FitReason node_trust(const NodeRow& node, std::int64_t now_ns, std::int64_t stale_after_ns) {
  if (!node.ever_reported) {
    return FitReason::kNoReport;
  }
  if (!node.has_sgx) {
    return FitReason::kNoSgx;
  }
  if (node.health == NodeHealth::kUnhealthy) {
    return FitReason::kUnhealthy;
  }
  if (stale_after_ns > 0 && saturating_sub(now_ns, node.report_time_ns) > stale_after_ns) {
    return FitReason::kStaleReport;
  }
  return FitReason::kFits;
}

inline bool node_trusted(const NodeRow& node, std::int64_t now_ns, std::int64_t stale_after_ns) {
  return node_trust(node, now_ns, stale_after_ns) == FitReason::kFits;
}

// Checks in a fixed order: the node's trust (node_trust above), capacity (unresolvable), then free
// amounts (resolvable). A pod that wants no SGX resource fits every node.
//
// Defined here (inline) because it runs per node per request: inlined into the handlers' loops, the
// figures a caller does not read (requested/available/capacity) are never computed.
inline FitResult fit(const PodRequest& pod, const NodeRow& node, const FitContext& context) {
  const auto fail = [](FitReason reason, bool unresolvable, std::int64_t requested,
                       std::int64_t available, std::int64_t capacity) {
    return FitResult{.reason = reason,
                     .unresolvable = unresolvable,
                     .requested = requested,
                     .available = available,
                     .capacity = capacity};
  };
  // A pod without SGX demand is none of our business: never block it, whatever the node's state.
  if (!pod.wants_sgx()) {
    return FitResult{};
  }
  switch (node_trust(node, context.now_ns, context.stale_after_ns)) {
    case FitReason::kFits:
      break;
    case FitReason::kNoReport:
      return fail(FitReason::kNoReport, true, 0, 0, 0);
    case FitReason::kNoSgx:
      return fail(FitReason::kNoSgx, true, 0, 0, 0);
    case FitReason::kStaleReport:
      return fail(FitReason::kStaleReport, false,
                  saturating_sub(context.now_ns, node.report_time_ns), 0, context.stale_after_ns);
    default:  // kUnhealthy: the only other reason node_trust gives
      return fail(FitReason::kUnhealthy, false, 0, 0, 0);
  }

  const std::int64_t usable_epc = usable_epc_bytes(node, context.accounting);
  const std::int64_t free_epc = free_epc_bytes(node, context.accounting);
  const std::int64_t free_enclave = free_enclave_slots(node);
  const std::int64_t free_provision = free_provision_slots(node);

  // More than the node could ever give: evicting pods cannot help (kube's "Unresolvable").
  if (pod.epc_bytes > usable_epc) {
    return fail(FitReason::kEpcCapacityTooSmall, true, pod.epc_bytes, free_epc, usable_epc);
  }
  if (pod.enclave_slots > node.enclave_slots_total) {
    return fail(FitReason::kEnclaveSlotsTooFew, true, pod.enclave_slots, free_enclave,
                node.enclave_slots_total);
  }
  if (pod.provision_slots > node.provision_slots_total) {
    return fail(FitReason::kProvisionSlotsTooFew, true, pod.provision_slots, free_provision,
                node.provision_slots_total);
  }

  // Not enough right now: pods leaving (or being preempted) can change that.
  if (pod.epc_bytes > free_epc) {
    return fail(FitReason::kInsufficientEpc, false, pod.epc_bytes, free_epc, usable_epc);
  }
  if (pod.enclave_slots > free_enclave) {
    return fail(FitReason::kInsufficientEnclaveSlots, false, pod.enclave_slots, free_enclave,
                node.enclave_slots_total);
  }
  if (pod.provision_slots > free_provision) {
    return fail(FitReason::kInsufficientProvisionSlots, false, pod.provision_slots, free_provision,
                node.provision_slots_total);
  }
  return FitResult{};
}

}  // namespace epc::core
