#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "extender/http/handlers/handler_scratch.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// Marks a candidate name the snapshot does not know.
inline constexpr std::uint32_t kUnknownNode = std::numeric_limits<std::uint32_t>::max();

// Equality of two node names, inlined for the common 8..16-byte names: two overlapping 8-byte
// compares instead of a memcmp call (this runs once per candidate node per request).
inline bool same_node_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  const std::size_t size = a.size();
  if (size < 8 || size > 16) {
    return a == b;
  }
  std::uint64_t a_head, b_head, a_tail, b_tail;
  std::memcpy(&a_head, a.data(), 8);
  std::memcpy(&b_head, b.data(), 8);
  std::memcpy(&a_tail, a.data() + size - 8, 8);
  std::memcpy(&b_tail, b.data() + size - 8, 8);
  return ((a_head ^ b_head) | (a_tail ^ b_tail)) == 0;
}

// Resolves the candidate names of one request to snapshot row indices, one position at a time, so
// that the handlers can resolve inside their fit loop.
//
// kube-scheduler sends the same candidate list over and over (all feasible nodes, to filter and
// then to prioritize), so the connection remembers the index found at each position (`memo`): a
// remembered index is used when the snapshot's name at that index equals the requested name, which
// is a short sequential string compare instead of a hash lookup with its cache misses. The check
// makes the memo always correct, whichever snapshot it came from; a miss falls back to
// ClusterSnapshot::find and updates the memo.
class NodeResolver {
 public:
  NodeResolver(const state::ClusterSnapshot& snapshot, std::vector<std::uint32_t>& memo,
               std::size_t count)
      : snapshot_(snapshot), table_(snapshot.nodes()), size_(table_.size()), memo_(memo) {
    if (memo_.size() < count) {
      memo_.resize(count, kUnknownNode);
    }
  }

  // Row index of `name`, the candidate at `position` (< the constructor's count), or kUnknownNode.
  std::uint32_t resolve(std::size_t position, std::string_view name) {
    const std::uint32_t remembered = memo_[position];
    if (remembered < size_ && same_node_name(table_.name(remembered), name)) {
      return remembered;
    }
    return look_up(position, name);
  }

 private:
  std::uint32_t look_up(std::size_t position, std::string_view name);

  const state::ClusterSnapshot& snapshot_;
  const state::NodeTable& table_;
  std::size_t size_;
  std::vector<std::uint32_t>& memo_;
};

// All candidate names of one request into scratch.node_indices (same order; kUnknownNode for
// names the snapshot does not know), through a NodeResolver over scratch.index_memo.
void resolve_nodes(std::span<const std::string_view> names, const state::ClusterSnapshot& snapshot,
                   HandlerScratch& scratch);

}  // namespace epc::http::handlers
