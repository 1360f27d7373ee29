#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

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

// What one connection remembers of the last candidate list one verb resolved: the row found at
// each position. Filter and prioritize keep one each, because their lists differ: kube-scheduler
// sends filter every candidate and prioritize only the ones filter kept.
struct ResolverMemo {
  std::vector<std::uint32_t> previous;  // the last list's rows, by position
  std::vector<std::uint32_t> current;   // this request's, filled by resolve(); swapped in after
};

// Resolves the candidate names of one request to snapshot row indices, one position at a time, so
// that the handlers can resolve inside their fit loop.
//
// kube-scheduler sends nearly the same list over and over, so the row the last request found at
// the same position is tried first: a short sequential compare instead of a hash lookup with its
// cache misses (at 5,000 names the lookups were a quarter of the server's time). Lists shift: a
// node that filled up leaves the next prioritize list, one that freed up joins it, so every later
// position moves by one. On a miss the neighbours one place either side are tried and the shift
// that matched is kept for the rest of the list. A guess is taken only when the snapshot's name at
// that row equals the requested name, so the memo is always correct whichever snapshot it came
// from; when no guess matches, ClusterSnapshot::find answers.
class NodeResolver {
 public:
  NodeResolver(const state::ClusterSnapshot& snapshot, ResolverMemo& memo, std::size_t count)
      : snapshot_(snapshot), table_(snapshot.nodes()), size_(table_.size()), memo_(memo) {
    memo_.current.resize(count, kUnknownNode);  // every position is written before it is read
  }
  // The list just resolved becomes the one the next request on this connection starts from.
  ~NodeResolver() { memo_.previous.swap(memo_.current); }
  NodeResolver(const NodeResolver&) = delete;
  NodeResolver& operator=(const NodeResolver&) = delete;

  // Row index of `name`, the candidate at `position` (< the constructor's count), or kUnknownNode.
  std::uint32_t resolve(std::size_t position, std::string_view name) {
    const std::uint32_t guess = previous_at(static_cast<std::ptrdiff_t>(position) + shift_);
    if (guess < size_ && same_node_name(table_.name(guess), name)) {
      memo_.current[position] = guess;
      return guess;
    }
    return look_up(position, name);
  }

  // How many names no guess matched so far (each cost a hash lookup).
  std::size_t lookups() const { return lookups_; }

 private:
  std::uint32_t previous_at(std::ptrdiff_t at) const {
    return at >= 0 && static_cast<std::size_t>(at) < memo_.previous.size()
               ? memo_.previous[static_cast<std::size_t>(at)]
               : kUnknownNode;
  }
  std::uint32_t look_up(std::size_t position, std::string_view name);

  const state::ClusterSnapshot& snapshot_;
  const state::NodeTable& table_;
  std::size_t size_;
  ResolverMemo& memo_;
  std::ptrdiff_t shift_ = 0;  // the last list's position of this list's position p is p + shift_
  std::size_t lookups_ = 0;
};

// All candidate names of one request into `indices` (same order; kUnknownNode for names the
// snapshot does not know), through a NodeResolver over `memo`.
void resolve_nodes(std::span<const std::string_view> names, const state::ClusterSnapshot& snapshot,
                   ResolverMemo& memo, std::vector<std::uint32_t>& indices);

}  // namespace epc::http::handlers
