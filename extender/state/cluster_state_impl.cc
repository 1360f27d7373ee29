#include "extender/state/cluster_state_impl.h"

#include <algorithm>
#include <cassert>
#include <future>
#include <string_view>
#include <utility>

#include "extender/state/clock.h"

namespace epc::state {

namespace {

const char kShuttingDown[] = "cluster state is shutting down";

// Finishes an operation that will never be applied: callers waiting on it are released.
template <typename OpVariant>
void fail_op(OpVariant& op) {
  std::visit(
      [](auto& o) {
        if constexpr (requires { o.done(); }) {
          if (o.done) {
            o.done();
          }
        } else if constexpr (requires { o.done(common::Error{}); }) {
          if (o.done) {
            o.done(common::Error{kShuttingDown});
          }
        }
      },
      op);
}

void merge_change(NodeChange& change, NodeState& state) {
  if (change.enclave_slots) {
    state.enclave_slots = *change.enclave_slots;
  }
  if (change.provision_slots) {
    state.provision_slots = *change.provision_slots;
  }
  if (change.live_epc) {
    state.live_epc = *change.live_epc;
  }
  if (change.health) {
    state.health = std::move(*change.health);
  }
  auto& holders = state.holders;
  for (const auto& removed : change.holders_removed) {
    std::erase_if(holders,
                  [&](const core::SlotHolder& h) { return h.pod.namespace_name == removed; });
  }
  for (auto& upserted : change.holders_upserted) {
    auto it = std::find_if(holders.begin(), holders.end(), [&](const core::SlotHolder& h) {
      return h.pod.namespace_name == upserted.pod.namespace_name;
    });
    if (it == holders.end()) {
      holders.push_back(std::move(upserted));
    } else {
      *it = std::move(upserted);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Producer side.

ClusterStateImpl::ClusterStateImpl(Options options)
    : options_(std::move(options)),
      published_(std::make_shared<const ClusterSnapshot>()),
      pod_mix_(options_.mix_half_life_pods) {
  ledger_.set_request_memory_limit(options_.request_memory_pods);
  writer_ = std::thread([this] { run_writer(); });
}

ClusterStateImpl::~ClusterStateImpl() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_one();
  writer_.join();
  // The writer is gone: whatever is still queued is failed here, on the destroying thread.
  std::vector<Op> left;
  {
    std::lock_guard lock(queue_mutex_);
    left.swap(queue_);
  }
  for (auto& op : left) {
    fail_op(op);
  }
}

ClusterSnapshotPtr ClusterStateImpl::snapshot() const {
  std::lock_guard lock(published_mutex_);
  return published_;
}

void ClusterStateImpl::push(Op op) {
  {
    std::lock_guard lock(queue_mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(op));
      // Wake the writer only for the first op of a batch; it drains everything else with it.
      if (queue_.size() == 1) {
        queue_cv_.notify_one();
      }
      return;
    }
  }
  fail_op(op);
}

void ClusterStateImpl::apply_async(ReportMessage message, ApplyDone done) {
  push(ApplyOp{std::move(message), std::move(done)});
}

void ClusterStateImpl::stream_closed(const std::string& node_name, const std::string& instance_id) {
  push(StreamClosedOp{node_name, instance_id});
}

void ClusterStateImpl::observe(SchedulerObservation observation) {
  push(ObserveOp{std::move(observation)});
}

void ClusterStateImpl::flush() {
  // A flush from the writer thread (inside a callback) would wait for itself.
  assert(writer_id_.load() != std::this_thread::get_id());
  std::promise<void> published;
  auto future = published.get_future();
  push(FlushOp{[&published] { published.set_value(); }});
  future.wait();
}

// ---------------------------------------------------------------------------------------------
// Writer side.

void ClusterStateImpl::assert_writer_thread() const {
  assert(writer_id_.load() == std::this_thread::get_id());
}

void ClusterStateImpl::run_writer() {
  writer_id_.store(std::this_thread::get_id());
  std::vector<Op> batch;
  std::vector<std::pair<ApplyDone, common::Result<std::uint64_t>>> acks;
  std::vector<std::function<void()>> flushes;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      batch.swap(queue_);
    }

    bool nodes_changed = false;
    bool mix_changed = false;
    for (auto& op : batch) {
      if (auto* apply = std::get_if<ApplyOp>(&op)) {
        auto result = apply_message(apply->message);
        nodes_changed = nodes_changed || result.ok();
        if (apply->done) {
          acks.emplace_back(std::move(apply->done), std::move(result));
        }
      } else if (auto* closed = std::get_if<StreamClosedOp>(&op)) {
        apply_stream_closed(*closed);
        nodes_changed = true;
      } else if (auto* observed = std::get_if<ObserveOp>(&op)) {
        const ObserveEffect effect = apply_observation(observed->observation);
        nodes_changed = nodes_changed || effect.nodes;
        mix_changed = mix_changed || effect.mix;
      } else if (auto* flush_op = std::get_if<FlushOp>(&op)) {
        flushes.push_back(std::move(flush_op->done));
      }
    }
    batch.clear();

    if (nodes_changed || mix_changed) {
      publish(nodes_changed);
    }
    if (nodes_changed && options_.on_publish) {
      // Before the acks: whoever waits for an Ack may read /metrics next and must see its report.
      options_.on_publish(*snapshot());
    }
    for (auto& [done, result] : acks) {
      done(std::move(result));
    }
    acks.clear();
    for (auto& done : flushes) {
      done();
    }
    flushes.clear();
  }
}

common::Result<std::uint64_t> ClusterStateImpl::apply_message(ReportMessage& message) {
  assert_writer_thread();
  auto it = nodes_.find(message.node_name);
  const bool same_instance = it != nodes_.end() && it->second.instance_id == message.instance_id;
  const std::int64_t now_ns = monotonic_now_ns();

  if (!same_instance) {
    auto* full = std::get_if<NodeState>(&message.body);
    if (full == nullptr) {
      return common::Error{"node " + message.node_name + ": plugin instance " +
                           message.instance_id +
                           " sent no snapshot yet; the first message of an instance must be a "
                           "snapshot"};
    }
    if (it == nodes_.end()) {
      it = nodes_.emplace(message.node_name, NodeRecord{}).first;
    }
    NodeRecord& record = it->second;
    // A new plugin instance (restart) starts a new sequence space.
    record.instance_id = message.instance_id;
    record.last_sequence = message.sequence;
    record.plugin_version = message.plugin_version;
    record.state = std::move(*full);
    record.report_time_ns = now_ns;
    record.stream_connected = true;
    ledger_.set_node_holders(message.node_name, record.state.holders);
    dirty_.push_back(message.node_name);
    return record.last_sequence;
  }

  NodeRecord& record = it->second;
  if (message.sequence <= record.last_sequence) {
    // A replay or duplicate: acknowledged, not applied.
    return record.last_sequence;
  }
  if (auto* full = std::get_if<NodeState>(&message.body)) {
    record.state = std::move(*full);
    ledger_.set_node_holders(message.node_name, record.state.holders);
  } else if (auto* change = std::get_if<NodeChange>(&message.body)) {
    const bool holders_touched =
        !change->holders_upserted.empty() || !change->holders_removed.empty();
    merge_change(*change, record.state);
    if (holders_touched) {
      ledger_.set_node_holders(message.node_name, record.state.holders);
    }
  }
  // A heartbeat only refreshes the report time.
  record.last_sequence = message.sequence;
  if (!message.plugin_version.empty()) {
    record.plugin_version = message.plugin_version;
  }
  record.report_time_ns = now_ns;
  record.stream_connected = true;
  dirty_.push_back(message.node_name);
  return record.last_sequence;
}

void ClusterStateImpl::apply_stream_closed(const StreamClosedOp& op) {
  assert_writer_thread();
  auto it = nodes_.find(op.node_name);
  // Only the instance that owns the node's record can disconnect it: a stale stream of a replaced
  // instance closing late must not mark the new one disconnected.
  if (it != nodes_.end() && it->second.instance_id == op.instance_id) {
    it->second.stream_connected = false;
    dirty_.push_back(op.node_name);
  }
}

ClusterStateImpl::ObserveEffect ClusterStateImpl::apply_observation(
    const SchedulerObservation& observation) {
  assert_writer_thread();
  ObserveEffect effect;
  const core::PodRequest& request = observation.request;
  if (observation.note_request) {
    const std::size_t dirty_before = dirty_.size();
    ledger_.note_scheduler_request(observation.pod, request.epc_bytes, request.enclave_slots,
                                   request.provision_slots, &dirty_);
    // Only the nodes holding this pod moved; a pod no node holds yet is just remembered.
    effect.nodes = dirty_.size() != dirty_before;
  }
  if (observation.join_mix && options_.keep_pod_mix && request.epc_bytes > 0) {
    pod_mix_.observe(request);
    ++pods_in_mix_;
    effect.mix = true;
  }
  return effect;
}

void ClusterStateImpl::rebuild_row(const std::string& name, NodeRecord& record) const {
  const NodeState& s = record.state;
  const core::Ledger::NodeTotals totals = ledger_.totals(name);

  core::NodeRow row;
  row.ever_reported = true;
  row.has_sgx = s.sgx_present;
  row.health = s.health.healthy ? core::NodeHealth::kHealthy : core::NodeHealth::kUnhealthy;
  row.live_used_known = s.live_epc.known;
  row.epc_live_used_bytes = s.live_epc.known ? s.live_epc.used_bytes : 0;
  row.epc_capacity_bytes = s.epc_capacity_bytes;
  // extender/reports refuses reports with more sections than the row holds (the two limits are
  // tied by a static_assert there), so none is ever dropped here.
  assert(s.epc_sections.size() <= row.epc_section_bytes.size());
  const std::size_t sections = std::min(s.epc_sections.size(), row.epc_section_bytes.size());
  row.epc_section_count = static_cast<std::int32_t>(sections);
  for (std::size_t i = 0; i < sections; ++i) {
    row.epc_section_bytes[i] = s.epc_sections[i].size_bytes;
  }
  row.epc_requested_bytes = totals.epc_requested_bytes;
  row.enclave_slots_total = s.enclave_slots.total;
  // The plugin's count can lag a bind the ledger already knows, and vice versa: trust the larger.
  row.enclave_slots_used = std::max(s.enclave_slots.used, totals.enclave_slots);
  row.provision_slots_total = s.provision_slots.total;
  row.provision_slots_used = std::max(s.provision_slots.used, totals.provision_slots);
  row.report_time_ns = record.report_time_ns;
  record.row = row;

  record.info.name = name;
  record.info.plugin_version = record.plugin_version;
  record.info.health_reason = s.health.reason;
  record.info.ledger_pods = totals.pods;
  record.info.ledger_pods_unknown_epc = totals.pods_with_unknown_epc;
  record.info.stream_connected = record.stream_connected;
}

void ClusterStateImpl::publish(bool nodes_changed) {
  assert_writer_thread();
  std::shared_ptr<NodeTable> table;
  if (nodes_changed) {
    for (const auto& name : dirty_) {
      auto it = nodes_.find(name);
      if (it != nodes_.end()) {
        rebuild_row(it->first, it->second);
      }
    }
    dirty_.clear();
    table = std::make_shared<NodeTable>();
    table->reserve(nodes_.size());
    for (const auto& [name, record] : nodes_) {
      table->add(record.info, record.row);
    }
  } else {
    // Only the pod mix moved: the new snapshot shares the node table as it is.
    table = snapshot()->shared_nodes();
  }
  auto snapshot =
      std::make_shared<const ClusterSnapshot>(std::move(table), pod_mix_, pods_in_mix_, ++version_);
  ClusterSnapshotPtr previous;
  {
    std::lock_guard lock(published_mutex_);
    previous = std::exchange(published_, std::move(snapshot));
  }
  // `previous` is released here, outside the lock (it may be the last reference).
}

}  // namespace epc::state
