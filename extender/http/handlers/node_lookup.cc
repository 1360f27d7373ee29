#include "extender/http/handlers/node_lookup.h"

namespace epc::http::handlers {

std::uint32_t NodeResolver::look_up(std::size_t position, std::string_view name) {
  for (const std::ptrdiff_t step : {std::ptrdiff_t{1}, std::ptrdiff_t{-1}}) {
    const std::uint32_t guess = previous_at(static_cast<std::ptrdiff_t>(position) + shift_ + step);
    if (guess < size_ && same_node_name(table_.name(guess), name)) {
      shift_ += step;
      memo_.current[position] = guess;
      return guess;
    }
  }
  ++lookups_;
  const std::optional<std::uint32_t> found = snapshot_.find(name);
  const std::uint32_t index = found ? *found : kUnknownNode;
  memo_.current[position] = index;
  return index;
}

void resolve_nodes(std::span<const std::string_view> names, const state::ClusterSnapshot& snapshot,
                   ResolverMemo& memo, std::vector<std::uint32_t>& indices) {
  const std::size_t count = names.size();
  indices.resize(count);
  NodeResolver resolver(snapshot, memo, count);
  for (std::size_t i = 0; i < count; ++i) {
    indices[i] = resolver.resolve(i, names[i]);
  }
}

}  // namespace epc::http::handlers
