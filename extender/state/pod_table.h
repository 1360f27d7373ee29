#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "extender/core/ledger.h"
#include "extender/core/pod_request.h"

namespace epc::state {

// One SGX pod the ledger counts on a node, as readers need it (preempt: what evicting it frees and
// how important it is).
struct PodRecord {
  std::string uid;             // may be empty for pods only a plugin report knows
  std::string namespace_name;  // "namespace/name"
  std::string node;
  core::PodRequest request;  // EPC 0 when no source knew it
  std::int32_t priority = 0;
  bool bound = true;  // false: a reservation of ours the API has not confirmed yet
  core::LedgerSource source = core::LedgerSource::kApiWatch;  // what put it on the node
  bool epc_known = true;  // false: no source knew its EPC (counted as 0)
};

// The ledger's bookkeeping beyond the pods on nodes, as of the table's build (the metrics' ledger
// gauges read it): pods the API watch knows (bound or pending), binds not yet confirmed, and
// scheduler requests remembered to fill in the EPC of pods reported without it.
struct LedgerSizes {
  std::size_t api_pods = 0;
  std::size_t reservations = 0;
  std::size_t remembered_requests = 0;
};

// The ledger's SGX pods, indexed by UID and by node. Built by the state writer, then shared
// read-only by every snapshot until the ledger's pods change.
class PodTable {
 public:
  // Builder side, before the table is shared. A second pod with the same UID replaces the index
  // entry of the first (the ledger never holds both).
  void add(PodRecord pod) {
    const std::uint32_t index = static_cast<std::uint32_t>(pods_.size());
    by_node_[pod.node].push_back(index);
    pods_.push_back(std::move(pod));
  }
  // Call once after the last add(): builds the UID index (string_views into pods_, which no longer
  // moves).
  void seal() {
    by_uid_.clear();
    by_uid_.reserve(pods_.size());
    for (std::uint32_t i = 0; i < pods_.size(); ++i) {
      if (!pods_[i].uid.empty()) {
        by_uid_[pods_[i].uid] = i;
      }
    }
  }

  std::size_t size() const { return pods_.size(); }
  std::span<const PodRecord> all() const { return pods_; }

  const LedgerSizes& ledger_sizes() const { return ledger_sizes_; }
  void set_ledger_sizes(const LedgerSizes& sizes) { ledger_sizes_ = sizes; }

  // The pod with this UID, or nullptr.
  const PodRecord* find(std::string_view uid) const {
    auto it = by_uid_.find(uid);
    return it == by_uid_.end() ? nullptr : &pods_[it->second];
  }

  // Indexes (into all()) of the pods on `node`, in the ledger's order; empty for an unknown node.
  std::span<const std::uint32_t> on_node(std::string_view node) const {
    auto it = by_node_.find(node);
    if (it == by_node_.end()) {
      return {};
    }
    return it->second;
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::vector<PodRecord> pods_;
  LedgerSizes ledger_sizes_;
  std::unordered_map<std::string_view, std::uint32_t, Hash, std::equal_to<>> by_uid_;
  std::unordered_map<std::string, std::vector<std::uint32_t>, Hash, std::equal_to<>> by_node_;
};

}  // namespace epc::state
