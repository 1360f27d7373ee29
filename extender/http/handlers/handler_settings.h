#pragma once

#include <cstdint>

#include "extender/config/extender_config.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::http::handlers {

// What the filter and prioritize handlers need from the configuration, resolved once at start-up.
struct HandlerSettings {
  core::score::PolicyKind policy = core::score::PolicyKind::kStrandingAware;
  core::score::ScoreWeights weights;
  core::NodeAccounting accounting;
  std::int64_t stale_after_ns = 0;  // 0 = reports never go stale
  core::PodRequestOptions pod_request;
  // Leave one node alone at the top score (core::score::single_out_top_score).
  bool single_out_top_node = true;
  // The one-round-trip filter: keep only the k best-scored nodes that fit (0 = every node that
  // fits). See filter.h.
  std::size_t filter_top_k = 0;
};

inline HandlerSettings settings_from_config(const config::ExtenderConfig& config) {
  HandlerSettings settings;
  settings.policy = config.policy;
  settings.weights = config.weights;
  settings.accounting.epc_headroom_bytes = config.epc_headroom_bytes;
  settings.stale_after_ns = config.stale_after_ms * 1'000'000;
  settings.pod_request = config.pod_request;
  settings.single_out_top_node = config.single_out_top_node;
  settings.filter_top_k = static_cast<std::size_t>(config.filter_top_k);
  return settings;
}

}  // namespace epc::http::handlers
