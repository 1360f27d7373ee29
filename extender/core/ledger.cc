#include "extender/core/ledger.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "extender/core/checked_math.h"

namespace epc::core {

// ---------------------------------------------------------------------------------------------
// Report side.

void Ledger::set_node_holders(std::string_view node, const std::vector<SlotHolder>& holders) {
  auto node_it = nodes_.find(node);
  if (node_it == nodes_.end()) {
    if (holders.empty()) {
      return;
    }
    node_it = nodes_.emplace(std::string(node), NodeEntries{}).first;
  }
  NodeEntries& entries = node_it->second;

  // The report is the whole truth about what the report said: forget its previous list first.
  for (auto it = entries.begin(); it != entries.end();) {
    if (it->second.presence_source == LedgerSource::kNodeReport) {
      index_remove(it->first, node);
      it = entries.erase(it);
    } else {
      ++it;
    }
  }

  for (const SlotHolder& holder : holders) {
    const std::string& key = holder.pod.namespace_name;
    std::optional<std::int64_t> epc = holder.epc_bytes;
    if (epc.has_value()) {
      epc = std::max<std::int64_t>(*epc, 0);
    }
    auto [it, inserted] = entries.try_emplace(key);
    LedgerEntry& entry = it->second;
    if (!inserted && entry.presence_source > LedgerSource::kNodeReport) {
      // A better source already records this pod here: the report may only add what it lacks.
      const bool epc_replaceable =
          !entry.epc_bytes.has_value() ||
          (entry.epc_source.has_value() && *entry.epc_source <= LedgerSource::kNodeReport);
      if (epc.has_value() && epc_replaceable) {
        entry.epc_bytes = epc;
        entry.epc_source = LedgerSource::kNodeReport;
      }
      if (entry.pod.uid.empty()) {
        entry.pod.uid = holder.pod.uid;
      }
      continue;
    }
    entry = LedgerEntry{
        .pod = holder.pod,
        .epc_bytes = epc,
        .enclave_slots = std::max<std::int64_t>(holder.enclave_slots, 0),
        .provision_slots = std::max<std::int64_t>(holder.provision_slots, 0),
        .presence_source = LedgerSource::kNodeReport,
        .epc_source = epc.has_value() ? std::optional(LedgerSource::kNodeReport) : std::nullopt,
    };
    if (!epc.has_value()) {
      // The plugin sees slots, not EPC: borrow what the scheduler was asked for this pod.
      if (auto request = requests_.find(key); request != requests_.end()) {
        apply_request(entry, request->second);
      }
    }
    if (inserted) {
      index_add(key, node);
    }
  }

  if (entries.empty()) {
    nodes_.erase(node_it);
  }
}

void Ledger::remove_node(std::string_view node) {
  auto node_it = nodes_.find(node);
  if (node_it == nodes_.end()) {
    return;
  }
  for (const auto& [key, entry] : node_it->second) {
    index_remove(key, node);
  }
  nodes_.erase(node_it);
}

// ---------------------------------------------------------------------------------------------
// Scheduler side.

bool Ledger::note_scheduler_request(const PodKey& pod, std::int64_t epc_bytes,
                                    std::int64_t enclave_slots, std::int64_t provision_slots,
                                    std::vector<std::string>* moved_nodes) {
  const std::string& key = pod.namespace_name;
  RememberedRequest request{
      .epc_bytes = std::max<std::int64_t>(epc_bytes, 0),
      .enclave_slots = std::max<std::int64_t>(enclave_slots, 0),
      .provision_slots = std::max<std::int64_t>(provision_slots, 0),
      .seen_order = next_order_++,
      .uid = pod.uid,
  };

  bool changed = false;
  if (auto holders = pod_nodes_.find(key); holders != pod_nodes_.end()) {
    for (const std::string& node : holders->second) {
      auto node_it = nodes_.find(node);
      if (node_it == nodes_.end()) {
        continue;
      }
      if (auto entry = node_it->second.find(key);
          entry != node_it->second.end() && apply_request(entry->second, request)) {
        changed = true;
        if (moved_nodes != nullptr) {
          moved_nodes->push_back(node);
        }
      }
    }
  }

  if (auto existing = requests_.find(key); existing != requests_.end()) {
    request_order_.erase(existing->second.seen_order);
    existing->second = std::move(request);
    request_order_.emplace(existing->second.seen_order, key);
  } else {
    const std::uint64_t order = request.seen_order;
    requests_.emplace(key, std::move(request));
    request_order_.emplace(order, key);
  }
  evict_requests();
  return changed;
}

bool Ledger::apply_request(LedgerEntry& entry, const RememberedRequest& request) {
  // A pod deleted and recreated under the same name is a different pod: when both sides know the
  // UID, they must agree.
  if (!request.uid.empty() && !entry.pod.uid.empty() && request.uid != entry.pod.uid) {
    return false;
  }
  if (entry.epc_source.has_value() && *entry.epc_source > LedgerSource::kSchedulerRequest) {
    return false;  // a more authoritative source gave the EPC
  }
  const bool changed = entry.epc_bytes != request.epc_bytes;
  entry.epc_bytes = request.epc_bytes;
  entry.epc_source = LedgerSource::kSchedulerRequest;
  return changed;
}

void Ledger::set_request_memory_limit(std::size_t max_pods) {
  request_memory_limit_ = max_pods;
  evict_requests();
}

void Ledger::evict_requests() {
  while (requests_.size() > request_memory_limit_ && !request_order_.empty()) {
    auto oldest = request_order_.begin();
    requests_.erase(oldest->second);
    request_order_.erase(oldest);
  }
}

// ---------------------------------------------------------------------------------------------
// Queries.

Ledger::NodeTotals Ledger::totals(std::string_view node) const {
  NodeTotals totals;
  auto node_it = nodes_.find(node);
  if (node_it == nodes_.end()) {
    return totals;
  }
  for (const auto& [key, entry] : node_it->second) {
    if (entry.epc_bytes.has_value()) {
      totals.epc_requested_bytes = saturating_add(totals.epc_requested_bytes, *entry.epc_bytes);
    } else {
      ++totals.pods_with_unknown_epc;
    }
    totals.enclave_slots = saturating_add(totals.enclave_slots, entry.enclave_slots);
    totals.provision_slots = saturating_add(totals.provision_slots, entry.provision_slots);
    ++totals.pods;
  }
  return totals;
}

std::vector<LedgerEntry> Ledger::entries(std::string_view node) const {
  std::vector<LedgerEntry> out;
  if (auto node_it = nodes_.find(node); node_it != nodes_.end()) {
    out.reserve(node_it->second.size());
    for (const auto& [key, entry] : node_it->second) {
      out.push_back(entry);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pod → nodes index.

void Ledger::index_add(const std::string& pod, std::string_view node) {
  pod_nodes_[pod].emplace(node);
}

void Ledger::index_remove(const std::string& pod, std::string_view node) {
  auto it = pod_nodes_.find(pod);
  if (it == pod_nodes_.end()) {
    return;
  }
  if (auto node_it = it->second.find(node); node_it != it->second.end()) {
    it->second.erase(node_it);
  }
  if (it->second.empty()) {
    pod_nodes_.erase(it);
  }
}

}  // namespace epc::core
