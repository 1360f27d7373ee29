#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "extender/core/node_row.h"

namespace epc::state {

// Transparent hashing so lookups by std::string_view (straight from the request JSON) build no
// temporary std::string.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const noexcept {
    return std::hash<std::string_view>{}(name);
  }
};

// Per-node facts that are not needed by fit/score but by metrics and operators.
struct NodeInfo {
  std::string name;
  std::string plugin_version;
  std::string health_reason;
  std::int64_t ledger_pods = 0;
  std::int64_t ledger_pods_unknown_epc = 0;
  bool stream_connected = false;
};

// An immutable view of the cluster, published by the state writer and shared by readers.
// Thread-safety: immutable after publication; any number of threads may read it concurrently.
class Snapshot {
 public:
  Snapshot() = default;

  std::span<const core::NodeRow> rows() const { return rows_; }
  std::span<const NodeInfo> infos() const { return infos_; }
  std::string_view name(std::uint32_t index) const { return infos_[index].name; }
  std::size_t size() const { return rows_.size(); }

  // Dense index of a node by name; nullopt for a node never reported.
  std::optional<std::uint32_t> find(std::string_view name) const {
    auto it = index_.find(name);
    if (it == index_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  // Increases with every publication.
  std::uint64_t version() const { return version_; }

  // Builder side (the state writer only).
  void add(NodeInfo info, const core::NodeRow& row) {
    index_.emplace(info.name, static_cast<std::uint32_t>(rows_.size()));
    infos_.push_back(std::move(info));
    rows_.push_back(row);
  }
  void set_version(std::uint64_t version) { version_ = version; }
  void reserve(std::size_t nodes) {
    rows_.reserve(nodes);
    infos_.reserve(nodes);
    index_.reserve(nodes);
  }

 private:
  std::vector<core::NodeRow> rows_;
  std::vector<NodeInfo> infos_;
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> index_;
  std::uint64_t version_ = 0;
};

}  // namespace epc::state
