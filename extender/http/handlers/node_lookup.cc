#include "extender/http/handlers/node_lookup.h"

#include <cstring>

namespace epc::http::handlers {

namespace {

// Equality of two node names, inlined for the common 8..16-byte names: two overlapping 8-byte
// compares instead of a memcmp call (this runs once per candidate node per request).
bool same_name(std::string_view a, std::string_view b) {
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

}  // namespace

void resolve_nodes(std::span<const std::string_view> names, const state::Snapshot& snapshot,
                   HandlerScratch& scratch) {
  const std::size_t count = names.size();
  scratch.node_indices.resize(count);
  if (scratch.index_memo.size() < count) {
    scratch.index_memo.resize(count, kUnknownNode);
  }
  const std::size_t rows = snapshot.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t remembered = scratch.index_memo[i];
    if (remembered < rows && same_name(snapshot.name(remembered), names[i])) {
      scratch.node_indices[i] = remembered;
      continue;
    }
    const std::optional<std::uint32_t> found = snapshot.find(names[i]);
    const std::uint32_t index = found ? *found : kUnknownNode;
    scratch.node_indices[i] = index;
    scratch.index_memo[i] = index;
  }
}

}  // namespace epc::http::handlers
