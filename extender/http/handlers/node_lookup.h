#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "extender/http/handlers/handler_scratch.h"
#include "extender/state/snapshot.h"

namespace epc::http::handlers {

// Marks a candidate name the snapshot does not know.
inline constexpr std::uint32_t kUnknownNode = std::numeric_limits<std::uint32_t>::max();

// Resolves the candidate names of one request to snapshot row indices, into
// scratch.node_indices (same order; kUnknownNode for names the snapshot does not know).
//
// kube-scheduler sends the same candidate list over and over (all feasible nodes, to filter and
// then to prioritize), so the connection remembers the index found at each position: a remembered
// index is used when the snapshot's name at that index equals the requested name, which is a
// short sequential string compare instead of a hash lookup with its cache misses. The check makes
// the memo always correct, whichever snapshot it came from; a miss falls back to Snapshot::find.
void resolve_nodes(std::span<const std::string_view> names, const state::Snapshot& snapshot,
                   HandlerScratch& scratch);

}  // namespace epc::http::handlers
