#pragma once

#include <cstdint>

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

// Checks in a fixed order: report present, SGX present, health, staleness, capacity (unresolvable),
// then free amounts (resolvable). A pod that wants no SGX resource fits every node.
FitResult fit(const PodRequest& pod, const NodeRow& node, const FitContext& context);

}  // namespace epc::core
