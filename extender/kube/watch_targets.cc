#include "extender/kube/watch_targets.h"

#include <utility>

namespace epc::kube {

namespace {

// An ERROR event: 410 means "relist"; anything else ends this watch with its message.
WatchTarget::EventOutcome error_outcome(std::int64_t code, const std::string& message) {
  WatchTarget::EventOutcome outcome;
  if (code == 410) {
    outcome.expired = true;
  } else {
    outcome.error = "ERROR event " + std::to_string(code) + ": " + message;
  }
  return outcome;
}

}  // namespace

// ------------------------------------------------------------------------------------------------

PodWatchTarget::PodWatchTarget(state::ClusterState& state, const core::PodRequestOptions& options)
    : state_(state), decoder_(options) {}

void PodWatchTarget::list_begin() {
  listed_.clear();
  // The writer keeps the totals it has until list_end replaces them all.
  requests_.clear();
}

common::Result<ListPage> PodWatchTarget::list_page(std::string& body) {
  listed_cpu_memory_.clear();
  auto page = decoder_.decode_list(body, listed_, &listed_cpu_memory_);
  if (page.ok()) {
    for (const PodCpuMemory& pod : listed_cpu_memory_) {
      requests_.apply(pod);
    }
  }
  listed_cpu_memory_.clear();
  return page;
}

void PodWatchTarget::list_end() {
  state::ApiPodBatch batch;
  batch.replace = true;
  batch.upserts = std::move(listed_);
  listed_.clear();
  batch.node_requested = requests_.all_totals();
  state_.apply_api_pods(std::move(batch));
  state_.api_status({state::ApiResource::kPods, /*synced=*/true, /*watching=*/false});
}

common::Result<WatchTarget::EventOutcome> PodWatchTarget::event(std::string_view line) {
  auto decoded = decoder_.decode_event(line, event_);
  if (!decoded.ok()) {
    return decoded.error();
  }
  if (event_.type == WatchEventType::kError) {
    return error_outcome(event_.error_code, event_.error_message);
  }
  EventOutcome outcome;
  outcome.resource_version = event_.resource_version;
  if (event_.type == WatchEventType::kBookmark) {
    return outcome;
  }
  const bool deleted = event_.type == WatchEventType::kDeleted;
  state::ApiPodBatch batch;
  if (event_.sgx) {
    if (deleted) {
      batch.deleted_uids.push_back(event_.pod.pod.uid);
    } else {
      batch.upserts.push_back(event_.pod);
    }
  }
  if (event_.has_cpu_memory) {
    if (deleted) {
      requests_.remove(event_.cpu_memory.uid);
    } else {
      requests_.apply(event_.cpu_memory);
    }
    batch.node_requested = requests_.take_changes();
  }
  if (!batch.upserts.empty() || !batch.deleted_uids.empty() || !batch.node_requested.empty()) {
    state_.apply_api_pods(std::move(batch));
  }
  return outcome;
}

void PodWatchTarget::watching(bool open, bool synced) {
  state_.api_status({state::ApiResource::kPods, synced, open});
}

// ------------------------------------------------------------------------------------------------

NodeWatchTarget::NodeWatchTarget(state::ClusterState& state, const core::PodRequestOptions& options)
    : state_(state), decoder_(options) {}

void NodeWatchTarget::list_begin() { listed_.clear(); }

common::Result<ListPage> NodeWatchTarget::list_page(std::string& body) {
  return decoder_.decode_list(body, listed_);
}

void NodeWatchTarget::list_end() {
  state::ApiNodeBatch batch;
  batch.replace = true;
  batch.upserts = std::move(listed_);
  listed_.clear();
  state_.apply_api_nodes(std::move(batch));
  state_.api_status({state::ApiResource::kNodes, /*synced=*/true, /*watching=*/false});
}

common::Result<WatchTarget::EventOutcome> NodeWatchTarget::event(std::string_view line) {
  auto decoded = decoder_.decode_event(line, event_);
  if (!decoded.ok()) {
    return decoded.error();
  }
  if (event_.type == WatchEventType::kError) {
    return error_outcome(event_.error_code, event_.error_message);
  }
  EventOutcome outcome;
  outcome.resource_version = event_.resource_version;
  if (event_.type == WatchEventType::kBookmark) {
    return outcome;
  }
  state::ApiNodeBatch batch;
  if (event_.type == WatchEventType::kDeleted) {
    batch.deleted.push_back(event_.node.name);
  } else {
    batch.upserts.push_back(event_.node);
  }
  state_.apply_api_nodes(std::move(batch));
  return outcome;
}

void NodeWatchTarget::watching(bool open, bool synced) {
  state_.api_status({state::ApiResource::kNodes, synced, open});
}

}  // namespace epc::kube
