#include "deviceplugin/sgx/misc_cgroup.h"

#include <string>

#include "deviceplugin/sgx/root_fs.h"

namespace epc::deviceplugin::sgx {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// nullopt: file absent or no sgx_epc line; Error: unreadable or garbage on our line.
common::Result<std::optional<std::uint64_t>> read_misc_file(std::string_view root,
                                                            std::string_view path) {
  const std::string full = rooted(root, path);
  auto text = read_small_file(full);
  if (!text.ok()) {
    return text.error();
  }
  if (!text->has_value()) {
    return std::optional<std::uint64_t>{};
  }
  auto value = parse_misc_value(**text, kMiscSgxEpcKey);
  if (!value.ok()) {
    return common::Error{full + ": " + value.error().message};
  }
  return value;
}

}  // namespace

common::Result<std::optional<std::uint64_t>> parse_misc_value(std::string_view text,
                                                              std::string_view key) {
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    while (!line.empty() && is_blank(line.front())) {
      line.remove_prefix(1);
    }
    if (!line.starts_with(key) || line.size() == key.size() || !is_blank(line[key.size()])) {
      continue;
    }
    auto value = parse_u64(line.substr(key.size()));
    if (!value.ok()) {
      return common::Error{std::string(key) + ": " + value.error().message};
    }
    return std::optional<std::uint64_t>{*value};
  }
  return std::optional<std::uint64_t>{};
}

common::Result<LiveEpc> read_live_epc(std::string_view root) {
  auto capacity = read_misc_file(root, kMiscCapacityPath);
  if (!capacity.ok()) {
    return capacity.error();
  }
  auto current = read_misc_file(root, kMiscCurrentPath);
  if (!current.ok()) {
    return current.error();
  }
  LiveEpc live;
  if (capacity->has_value() && current->has_value()) {
    live.known = true;
    live.capacity_bytes = **capacity;
    live.used_bytes = **current;
  }
  return live;
}

}  // namespace epc::deviceplugin::sgx
