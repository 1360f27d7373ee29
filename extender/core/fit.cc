#include "extender/core/fit.h"

#include <cstdint>

#include "extender/core/checked_math.h"

namespace epc::core {
namespace {

FitResult fail(FitReason reason, bool unresolvable, std::int64_t requested, std::int64_t available,
               std::int64_t capacity) {
  return FitResult{.reason = reason,
                   .unresolvable = unresolvable,
                   .requested = requested,
                   .available = available,
                   .capacity = capacity};
}

}  // namespace

FitResult fit(const PodRequest& pod, const NodeRow& node, const FitContext& context) {
  // A pod without SGX demand is none of our business: never block it, whatever the node's state.
  if (!pod.wants_sgx()) {
    return FitResult{};
  }
  if (!node.ever_reported) {
    return fail(FitReason::kNoReport, true, 0, 0, 0);
  }
  if (!node.has_sgx) {
    return fail(FitReason::kNoSgx, true, 0, 0, 0);
  }
  if (node.health == NodeHealth::kUnhealthy) {
    return fail(FitReason::kUnhealthy, false, 0, 0, 0);
  }
  if (context.stale_after_ns > 0) {
    const std::int64_t age_ns = saturating_sub(context.now_ns, node.report_time_ns);
    if (age_ns > context.stale_after_ns) {
      return fail(FitReason::kStaleReport, false, age_ns, 0, context.stale_after_ns);
    }
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
