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
                                    std::vector<std::string>* moved_nodes, std::int64_t now_ns) {
  const std::string& key = pod.namespace_name;
  RememberedRequest request{
      .epc_bytes = std::max<std::int64_t>(epc_bytes, 0),
      .enclave_slots = std::max<std::int64_t>(enclave_slots, 0),
      .provision_slots = std::max<std::int64_t>(provision_slots, 0),
      .seen_order = next_order_++,
      .uid = pod.uid,
      .seen_ns = now_ns,
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

void Ledger::expire_hints(std::int64_t oldest_ns) {
  // seen_order follows the callers' clock, so the oldest hints are at the front.
  while (!request_order_.empty()) {
    auto oldest = request_order_.begin();
    auto request = requests_.find(oldest->second);
    if (request != requests_.end() && request->second.seen_ns >= oldest_ns) {
      return;
    }
    if (request != requests_.end()) {
      requests_.erase(request);
    }
    request_order_.erase(oldest);
  }
}

// ---------------------------------------------------------------------------------------------
// API side.

bool Ledger::remove_entry(std::string_view node, const std::string& key, LedgerSource source,
                          std::vector<std::string>* moved_nodes) {
  auto node_it = nodes_.find(node);
  if (node_it == nodes_.end()) {
    return false;
  }
  auto entry = node_it->second.find(key);
  if (entry == node_it->second.end() || entry->second.presence_source != source) {
    return false;
  }
  node_it->second.erase(entry);
  index_remove(key, node);
  if (moved_nodes != nullptr) {
    moved_nodes->emplace_back(node);
  }
  if (node_it->second.empty()) {
    nodes_.erase(node_it);
  }
  return true;
}

void Ledger::drop_reservation(const std::string& key, std::vector<std::string>* moved_nodes) {
  auto it = reservations_.find(key);
  if (it == reservations_.end()) {
    return;
  }
  remove_entry(it->second.node, key, LedgerSource::kBind, moved_nodes);
  reservations_.erase(it);
}

void Ledger::upsert_api_pod(const ApiPod& pod, std::vector<std::string>* moved_nodes) {
  const std::string& key = pod.pod.namespace_name;
  const std::string& uid = pod.pod.uid;
  auto existing = api_pods_.find(uid);
  const bool holds = !pod.terminal && pod.request.wants_sgx();
  if (existing != api_pods_.end() && !existing->second.node.empty() &&
      (!holds || existing->second.node != pod.node)) {
    remove_entry(existing->second.node, existing->second.key, LedgerSource::kApiWatch, moved_nodes);
  }
  if (!holds) {
    // Finished (or never an SGX pod): nothing of it is counted any more, reservation included.
    if (existing != api_pods_.end()) {
      api_uid_by_key_.erase(existing->second.key);
      api_pods_.erase(existing);
    }
    if (auto reservation = reservations_.find(key);
        reservation != reservations_.end() && reservation->second.uid == uid) {
      drop_reservation(key, moved_nodes);
    }
    return;
  }

  // A pod recreated under the same name is another incarnation: the old one is gone.
  if (auto by_key = api_uid_by_key_.find(key);
      by_key != api_uid_by_key_.end() && by_key->second != uid) {
    const std::string old_uid = by_key->second;
    remove_api_pod(old_uid, moved_nodes);
  }
  ApiRecord& record = api_pods_[uid];
  record.key = key;
  record.node = pod.node;
  record.request = pod.request;
  record.priority = pod.priority;
  api_uid_by_key_[key] = uid;
  if (pod.node.empty()) {
    return;  // pending: remembered for bind, counted nowhere yet
  }

  // Bound: the API's word replaces a reservation (here: confirmed; elsewhere: overruled).
  if (auto reservation = reservations_.find(key); reservation != reservations_.end()) {
    if (reservation->second.node == pod.node) {
      reservations_.erase(reservation);  // its entry is overwritten below
    } else {
      drop_reservation(key, moved_nodes);
    }
  }
  NodeEntries& entries = nodes_[pod.node];
  auto [it, inserted] = entries.try_emplace(key);
  const LedgerEntry placed{
      .pod = pod.pod,
      .epc_bytes = pod.request.epc_bytes,
      .enclave_slots = pod.request.enclave_slots,
      .provision_slots = pod.request.provision_slots,
      .presence_source = LedgerSource::kApiWatch,
      .epc_source = LedgerSource::kApiWatch,
      .priority = pod.priority,
  };
  const bool changed = inserted || it->second.epc_bytes != placed.epc_bytes ||
                       it->second.enclave_slots != placed.enclave_slots ||
                       it->second.provision_slots != placed.provision_slots ||
                       it->second.presence_source != placed.presence_source ||
                       it->second.priority != placed.priority || it->second.pod != placed.pod;
  it->second = placed;
  if (inserted) {
    index_add(key, pod.node);
  }
  if (changed && moved_nodes != nullptr) {
    moved_nodes->push_back(pod.node);
  }
}

void Ledger::remove_api_pod(std::string_view uid, std::vector<std::string>* moved_nodes) {
  auto it = api_pods_.find(uid);
  if (it == api_pods_.end()) {
    return;
  }
  if (!it->second.node.empty()) {
    remove_entry(it->second.node, it->second.key, LedgerSource::kApiWatch, moved_nodes);
  }
  if (auto reservation = reservations_.find(it->second.key);
      reservation != reservations_.end() && reservation->second.uid == uid) {
    drop_reservation(it->second.key, moved_nodes);
  }
  if (auto by_key = api_uid_by_key_.find(it->second.key);
      by_key != api_uid_by_key_.end() && by_key->second == uid) {
    api_uid_by_key_.erase(by_key);
  }
  api_pods_.erase(it);
}

void Ledger::replace_api_pods(std::span<const ApiPod> pods, std::vector<std::string>* moved_nodes) {
  std::set<std::string_view> listed;
  for (const ApiPod& pod : pods) {
    listed.insert(pod.pod.uid);
  }
  std::vector<std::string> gone;
  for (const auto& [uid, record] : api_pods_) {
    if (!listed.contains(uid)) {
      gone.push_back(uid);
    }
  }
  for (const std::string& uid : gone) {
    remove_api_pod(uid, moved_nodes);
  }
  for (const ApiPod& pod : pods) {
    upsert_api_pod(pod, moved_nodes);
  }
}

std::optional<PodDemand> Ledger::demand(const PodKey& pod) const {
  const std::string& key = pod.namespace_name;
  std::optional<PodDemand> out;
  if (auto by_key = api_uid_by_key_.find(key); by_key != api_uid_by_key_.end()) {
    if (!pod.uid.empty() && by_key->second != pod.uid) {
      return std::nullopt;
    }
    const ApiRecord& record = api_pods_.find(by_key->second)->second;
    out.emplace();
    out->request = record.request;
    out->priority = record.priority;
    out->from_api = true;
    if (!record.node.empty()) {
      out->bound_node = record.node;
      out->bound_source = LedgerSource::kApiWatch;
    }
  } else if (auto request = requests_.find(key); request != requests_.end()) {
    if (!pod.uid.empty() && !request->second.uid.empty() && request->second.uid != pod.uid) {
      return std::nullopt;
    }
    out.emplace();
    out->request = PodRequest{.epc_bytes = request->second.epc_bytes,
                              .enclave_slots = request->second.enclave_slots,
                              .provision_slots = request->second.provision_slots};
  } else {
    return std::nullopt;
  }
  if (out->bound_node.empty()) {
    if (auto reservation = reservations_.find(key); reservation != reservations_.end()) {
      out->bound_node = reservation->second.node;
      out->bound_source = LedgerSource::kBind;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reservations.

void Ledger::reserve(const PodKey& pod, std::string_view node, const PodRequest& request,
                     std::int64_t expires_ns, std::vector<std::string>* moved_nodes) {
  const std::string& key = pod.namespace_name;
  if (auto existing = reservations_.find(key);
      existing != reservations_.end() && existing->second.node != node) {
    drop_reservation(key, moved_nodes);
  }
  NodeEntries& entries = nodes_[std::string(node)];
  auto [it, inserted] = entries.try_emplace(key);
  if (!inserted && it->second.presence_source == LedgerSource::kApiWatch) {
    return;  // the API already has it there: nothing to assume
  }
  std::int32_t priority = 0;
  if (auto by_key = api_uid_by_key_.find(key); by_key != api_uid_by_key_.end()) {
    priority = api_pods_.find(by_key->second)->second.priority;
  }
  it->second = LedgerEntry{
      .pod = pod,
      .epc_bytes = request.epc_bytes,
      .enclave_slots = request.enclave_slots,
      .provision_slots = request.provision_slots,
      .presence_source = LedgerSource::kBind,
      .epc_source = LedgerSource::kBind,
      .priority = priority,
  };
  if (inserted) {
    index_add(key, node);
  }
  reservations_[key] = ReservationRecord{std::string(node), pod.uid, expires_ns};
  if (moved_nodes != nullptr) {
    moved_nodes->emplace_back(node);
  }
}

bool Ledger::cancel_reservation(const PodKey& pod, std::string_view node,
                                std::vector<std::string>* moved_nodes) {
  auto it = reservations_.find(pod.namespace_name);
  if (it == reservations_.end() || it->second.node != node) {
    return false;
  }
  drop_reservation(pod.namespace_name, moved_nodes);
  return true;
}

std::size_t Ledger::expire_reservations(std::int64_t now_ns,
                                        std::vector<std::string>* moved_nodes) {
  std::vector<std::string> expired;
  for (const auto& [key, reservation] : reservations_) {
    if (reservation.expires_ns <= now_ns) {
      expired.push_back(key);
    }
  }
  for (const std::string& key : expired) {
    drop_reservation(key, moved_nodes);
  }
  return expired.size();
}

void Ledger::extend_reservations(std::int64_t min_expires_ns) {
  for (auto& [key, reservation] : reservations_) {
    reservation.expires_ns = std::max(reservation.expires_ns, min_expires_ns);
  }
}

std::optional<std::int64_t> Ledger::next_reservation_expiry() const {
  std::optional<std::int64_t> next;
  for (const auto& [key, reservation] : reservations_) {
    if (!next || reservation.expires_ns < *next) {
      next = reservation.expires_ns;
    }
  }
  return next;
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
