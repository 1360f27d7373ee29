#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "extender/core/score/fragmentation_aware.h"
#include "extender/core/score/top_tie_break.h"
#include "extender/http/codec/extender_args.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// What the policy ranks with besides the rows, the same for prioritize's scores and filter's top-k
// cut (so the two can never rank differently).

// FragmentationAware's expected mix: the snapshot's, with this pod in it (the mix is the demand
// that arrives, not what was placed). Fixed-size values on the stack; nullopt for other policies.
inline std::optional<core::score::MixDistribution> mix_with_pod(
    const codec::ExtenderArgsView& args, const state::ClusterSnapshot& snapshot,
    const HandlerSettings& settings) {
  if (settings.policy != core::score::PolicyKind::kFragmentationAware) {
    return std::nullopt;
  }
  core::PodMix with_pod = snapshot.pod_mix();
  with_pod.observe(args.request);
  return core::score::MixDistribution::from_mix(with_pod);
}

// The tie-break salt: the pod's UID (its name when the UID is missing), so a retried pod gets the
// same answer and different pods spread over tied nodes.
inline std::uint64_t tie_break_salt(const codec::ExtenderArgsView& args) {
  return core::score::stable_hash(args.pod.uid.empty() ? args.pod.name : args.pod.uid);
}

}  // namespace epc::http::handlers
