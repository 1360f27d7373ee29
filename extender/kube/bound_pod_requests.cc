#include "extender/kube/bound_pod_requests.h"

#include <cassert>

namespace epc::kube {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;  // uppercase too: "A…" and "a…" are different UIDs, so only one spelling is packed
}

}  // namespace

std::optional<BoundPodRequests::Uuid> BoundPodRequests::parse_uuid(std::string_view uid) {
  // 8-4-4-4-12 lowercase hex digits.
  if (uid.size() != 36 || uid[8] != '-' || uid[13] != '-' || uid[18] != '-' || uid[23] != '-') {
    return std::nullopt;
  }
  Uuid uuid;
  int digits = 0;
  for (std::size_t i = 0; i < uid.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      continue;
    }
    const int value = hex_value(uid[i]);
    if (value < 0) {
      return std::nullopt;
    }
    std::uint64_t& half = digits < 16 ? uuid.high : uuid.low;
    half = (half << 4) | static_cast<std::uint64_t>(value);
    ++digits;
  }
  return uuid;
}

BoundPodRequests::Counted* BoundPodRequests::find(std::string_view uid) {
  if (const std::optional<Uuid> uuid = parse_uuid(uid)) {
    auto it = by_uuid_.find(*uuid);
    return it == by_uuid_.end() ? nullptr : &it->second;
  }
  auto it = by_text_.find(uid);
  return it == by_text_.end() ? nullptr : &it->second;
}

BoundPodRequests::Counted& BoundPodRequests::insert(std::string_view uid) {
  if (const std::optional<Uuid> uuid = parse_uuid(uid)) {
    return by_uuid_[*uuid];
  }
  return by_text_.emplace(std::string(uid), Counted{}).first->second;
}

void BoundPodRequests::erase(std::string_view uid) {
  if (const std::optional<Uuid> uuid = parse_uuid(uid)) {
    by_uuid_.erase(*uuid);
    return;
  }
  if (auto it = by_text_.find(uid); it != by_text_.end()) {
    by_text_.erase(it);
  }
}

std::uint32_t BoundPodRequests::intern(std::string_view node) {
  if (auto it = directory_.find(node); it != directory_.end()) {
    return it->second;
  }
  std::uint32_t index = 0;
  if (!free_nodes_.empty()) {
    index = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  nodes_[index] = NodeSums{.name = std::string(node)};
  directory_.emplace(nodes_[index].name, index);
  return index;
}

void BoundPodRequests::add(std::uint32_t node, const Counted& pod, int sign) {
  NodeSums& sums = nodes_[node];
  sums.cpu_milli += sign * static_cast<core::Int128>(pod.cpu_milli);
  sums.memory_bytes += sign * static_cast<core::Int128>(pod.memory_bytes);
  sums.pods += sign;
  assert(sums.pods >= 0);
  if (!sums.changed) {
    sums.changed = true;
    changed_.push_back(node);
  }
}

void BoundPodRequests::apply(const PodCpuMemory& pod) {
  if (!pod.counted()) {
    remove(pod.uid);
    return;
  }
  Counted* counted = find(pod.uid);
  const std::uint32_t node = intern(pod.node);
  if (counted != nullptr) {
    if (counted->node == node && counted->cpu_milli == pod.cpu_milli &&
        counted->memory_bytes == pod.memory_bytes) {
      return;  // a status update: nothing of ours moved (the common case by far)
    }
    add(counted->node, *counted, -1);
  } else {
    counted = &insert(pod.uid);
  }
  *counted = Counted{.node = node, .cpu_milli = pod.cpu_milli, .memory_bytes = pod.memory_bytes};
  add(node, *counted, +1);
}

void BoundPodRequests::remove(std::string_view uid) {
  Counted* counted = find(uid);
  if (counted == nullptr) {
    return;
  }
  add(counted->node, *counted, -1);
  erase(uid);
}

void BoundPodRequests::clear() {
  by_uuid_.clear();
  by_text_.clear();
  nodes_.clear();
  directory_.clear();
  free_nodes_.clear();
  changed_.clear();
}

state::NodeCpuMemoryRequested BoundPodRequests::totals_of(const NodeSums& sums) const {
  return state::NodeCpuMemoryRequested{.node = sums.name,
                                       .cpu_milli = core::clamp_to_int64(sums.cpu_milli),
                                       .memory_bytes = core::clamp_to_int64(sums.memory_bytes),
                                       .pods = sums.pods};
}

void BoundPodRequests::release_if_empty(std::uint32_t node) {
  NodeSums& sums = nodes_[node];
  if (sums.pods != 0 || sums.name.empty()) {
    return;
  }
  directory_.erase(sums.name);
  sums = NodeSums{};
  free_nodes_.push_back(node);
}

std::vector<state::NodeCpuMemoryRequested> BoundPodRequests::take_changes() {
  std::vector<state::NodeCpuMemoryRequested> out;
  out.reserve(changed_.size());
  for (const std::uint32_t node : changed_) {
    nodes_[node].changed = false;
    out.push_back(totals_of(nodes_[node]));
    release_if_empty(node);
  }
  changed_.clear();
  return out;
}

std::vector<state::NodeCpuMemoryRequested> BoundPodRequests::all_totals() {
  for (const std::uint32_t node : changed_) {
    nodes_[node].changed = false;
    release_if_empty(node);
  }
  changed_.clear();
  std::vector<state::NodeCpuMemoryRequested> out;
  out.reserve(directory_.size());
  for (const NodeSums& sums : nodes_) {
    if (!sums.name.empty()) {
      out.push_back(totals_of(sums));
    }
  }
  return out;
}

state::NodeCpuMemoryRequested BoundPodRequests::totals(std::string_view node) const {
  auto it = directory_.find(node);
  if (it == directory_.end()) {
    return state::NodeCpuMemoryRequested{.node = std::string(node)};
  }
  return totals_of(nodes_[it->second]);
}

}  // namespace epc::kube
