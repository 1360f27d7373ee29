#include "extender/http/handlers/node_lookup.h"

namespace epc::http::handlers {

std::uint32_t NodeResolver::look_up(std::size_t position, std::string_view name) {
  const std::optional<std::uint32_t> found = snapshot_.find(name);
  const std::uint32_t index = found ? *found : kUnknownNode;
  memo_[position] = index;
  return index;
}

void resolve_nodes(std::span<const std::string_view> names, const state::ClusterSnapshot& snapshot,
                   HandlerScratch& scratch) {
  const std::size_t count = names.size();
  scratch.node_indices.resize(count);
  NodeResolver resolver(snapshot, scratch.index_memo, count);
  for (std::size_t i = 0; i < count; ++i) {
    scratch.node_indices[i] = resolver.resolve(i, names[i]);
  }
}

}  // namespace epc::http::handlers
