#include "extender/core/pod_request.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "extender/core/checked_math.h"

namespace epc::core {
namespace {

// The three SGX resources as one small vector so the kube arithmetic is written once.
struct Amounts {
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t provision_slots = 0;
};

// requests[r] if listed, else limits[r] (the API server defaults an extended resource's request to
// its limit), else 0. Negative amounts are rejected by the codec; here they count as 0 so that they
// can never shrink a pod's demand.
std::int64_t effective(const std::optional<std::int64_t>& request,
                       const std::optional<std::int64_t>& limit) {
  const std::optional<std::int64_t>& chosen = request.has_value() ? request : limit;
  return chosen.has_value() ? std::max<std::int64_t>(*chosen, 0) : 0;
}

Amounts effective(const ContainerResources& container) {
  return Amounts{
      .epc_bytes = effective(container.requests.epc_bytes, container.limits.epc_bytes),
      .enclave_slots = effective(container.requests.enclave_slots, container.limits.enclave_slots),
      .provision_slots =
          effective(container.requests.provision_slots, container.limits.provision_slots),
  };
}

Amounts overhead(const SgxAmounts& amounts) {
  auto value = [](const std::optional<std::int64_t>& v) {
    return v.has_value() ? std::max<std::int64_t>(*v, 0) : 0;
  };
  return Amounts{value(amounts.epc_bytes), value(amounts.enclave_slots),
                 value(amounts.provision_slots)};
}

Amounts add(const Amounts& a, const Amounts& b) {
  return Amounts{saturating_add(a.epc_bytes, b.epc_bytes),
                 saturating_add(a.enclave_slots, b.enclave_slots),
                 saturating_add(a.provision_slots, b.provision_slots)};
}

Amounts max(const Amounts& a, const Amounts& b) {
  return Amounts{std::max(a.epc_bytes, b.epc_bytes), std::max(a.enclave_slots, b.enclave_slots),
                 std::max(a.provision_slots, b.provision_slots)};
}

}  // namespace

PodRequest compute_pod_request(const PodSpecResources& pod, const PodRequestOptions& options) {
  // App containers run together: their requests add up.
  Amounts sum;
  for (const ContainerResources& container : pod.containers) {
    sum = add(sum, effective(container));
  }

  // Init containers run one at a time, in order, before the app containers, except restartable
  // ones (sidecars), which keep running from their start onwards. So a regular init container
  // needs its own amount plus every sidecar started before it, and every sidecar also adds to the
  // steady-state sum. kube-scheduler also takes the running sidecar total itself as an init-phase
  // candidate; it never exceeds `sum`, so it cannot change the result and is left out.
  Amounts sidecars;
  Amounts init_max;
  for (const ContainerResources& container : pod.init_containers) {
    const Amounts amounts = effective(container);
    if (container.restartable) {
      sum = add(sum, amounts);
      sidecars = add(sidecars, amounts);
    } else {
      init_max = max(init_max, add(amounts, sidecars));
    }
  }

  const Amounts total = add(max(sum, init_max), overhead(pod.overhead));
  PodRequest request{
      .epc_bytes = total.epc_bytes,
      .enclave_slots = total.enclave_slots,
      .provision_slots = total.provision_slots,
  };
  if (options.epc_implies_enclave_slot && request.epc_bytes > 0 && request.enclave_slots == 0) {
    request.enclave_slots = 1;
  }
  return request;
}

}  // namespace epc::core
