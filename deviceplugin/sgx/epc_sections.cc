#include "deviceplugin/sgx/epc_sections.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <utility>

#include <dirent.h>

#include "deviceplugin/sgx/root_fs.h"

namespace epc::deviceplugin::sgx {

namespace {

// At most this many node directories are looked at: Linux's MAX_NUMNODES is 1024; the bound keeps
// a hostile fake tree from making discovery read without end.
constexpr std::size_t kMaxNumaNodes = 1024;

// "node12" -> 12; anything else (e.g. "possible", "node1x", "node") -> -1.
int node_number(std::string_view name) {
  constexpr std::string_view kPrefix = "node";
  if (!name.starts_with(kPrefix) || name.size() == kPrefix.size() || name.size() > 10) {
    return -1;
  }
  int n = 0;
  for (const char c : name.substr(kPrefix.size())) {
    if (c < '0' || c > '9') {
      return -1;
    }
    n = n * 10 + (c - '0');
  }
  return n;
}

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

}  // namespace

common::Result<std::optional<std::vector<EpcSection>>> read_sysfs_epc_sections(
    std::string_view root) {
  const std::string dir_path = rooted(root, kNumaNodesDir);
  std::unique_ptr<DIR, DirCloser> dir(::opendir(dir_path.c_str()));
  if (!dir) {
    return std::optional<std::vector<EpcSection>>{};  // no NUMA sysfs (no /sys, fake root)
  }
  std::vector<EpcSection> sections;
  bool found = false;
  std::vector<int> nodes;
  while (const dirent* entry = ::readdir(dir.get())) {
    const int n = node_number(entry->d_name);
    if (n >= 0 && nodes.size() < kMaxNumaNodes) {
      nodes.push_back(n);
    }
  }
  std::sort(nodes.begin(), nodes.end());
  for (const int n : nodes) {
    const std::string path = dir_path + "/node" + std::to_string(n) + "/x86/sgx_total_bytes";
    auto text = read_small_file(path);
    if (!text.ok()) {
      return text.error();
    }
    if (!text->has_value()) {
      continue;
    }
    found = true;
    auto bytes = parse_u64(**text);
    if (!bytes.ok()) {
      return common::Error{path + ": " + bytes.error().message};
    }
    if (*bytes > 0) {
      sections.push_back(EpcSection{n, *bytes});
    }
  }
  if (!found) {
    return std::optional<std::vector<EpcSection>>{};
  }
  return std::optional<std::vector<EpcSection>>{std::move(sections)};
}

}  // namespace epc::deviceplugin::sgx
