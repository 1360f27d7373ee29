#pragma once

#include <cstdint>
#include <vector>

#include "extender/core/fit.h"
#include "extender/core/node_row.h"
#include "extender/core/score/top_k.h"
#include "extender/http/handlers/node_lookup.h"

namespace epc::http::handlers {

// Per-node working arrays of the filter and prioritize handlers. One per connection, reused across
// requests: after the first request of a given size no handler allocates (house rule 7).
struct HandlerScratch {
  struct Verdict {
    core::FitReason reason = core::FitReason::kFits;
    bool unresolvable = false;
    bool cut = false;  // fits, but the one-round-trip filter kept k better nodes
  };
  ResolverMemo filter_memo;                // the rows of the last filter list, by position
  ResolverMemo prioritize_memo;            // the rows of the last prioritize list
  std::vector<Verdict> verdicts;           // filter: one per candidate node
  std::vector<std::uint32_t> failed;       // filter: positions of the nodes that do not fit
  std::vector<const core::NodeRow*> rows;  // prioritize: rows of the nodes that fit
  std::vector<std::uint32_t> positions;    // prioritize: their positions in the request
  std::vector<std::uint64_t> node_keys;    // prioritize: their node-table indices (tie-break keys)
  std::vector<std::int64_t> fit_scores;    // prioritize: scores of the nodes that fit
  std::vector<std::int64_t> scores;        // prioritize: 0..10 per candidate node
  std::vector<core::score::RankedCandidate> ranked;  // filter top-k: selection scratch
  std::vector<std::uint32_t> kept;                   // filter top-k: kept places among `rows`
};

}  // namespace epc::http::handlers
