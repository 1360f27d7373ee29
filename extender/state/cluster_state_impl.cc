#include "extender/state/cluster_state_impl.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <future>
#include <limits>
#include <set>
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
        } else if constexpr (
            requires { o.done(common::Error{}); } ||
            requires { o.done(common::Result<BindReservation>(common::Error{})); }) {
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
      published_([&] {
        // Not ready before the first publish when a source must deliver its state first.
        auto first = std::make_shared<ClusterSnapshot>();
        first->set_sources_ready(!options_.api_configured);
        return first;
      }()),
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
      const bool observation = std::holds_alternative<ObserveOp>(op);
      queue_.push_back(std::move(op));
      // Wake the writer only for the first op of a batch; it drains everything else with it. An
      // observation never needs a prompt writer: while the writer polls (see run_writer) it waits
      // for its next poll instead of costing this request a wake-up of another thread.
      bool wake = false;
      if (!observation) {
        wake = !urgent_queued_;
        urgent_queued_ = true;
      } else {
        wake = !writer_polls_ && queue_.size() == 1;
      }
      if (wake) {
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

void ClusterStateImpl::apply_api_pods(ApiPodBatch batch) { push(std::move(batch)); }

void ClusterStateImpl::apply_api_nodes(ApiNodeBatch batch) { push(std::move(batch)); }

void ClusterStateImpl::api_status(ApiSourceStatus status) { push(status); }

void ClusterStateImpl::reserve_async(BindRequest request, ReserveDone done) {
  push(ReserveOp{std::move(request), std::move(done)});
}

void ClusterStateImpl::cancel_reservation(BindRequest request) {
  push(CancelReservationOp{std::move(request)});
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
  std::vector<std::pair<ReserveDone, common::Result<BindReservation>>> reserved;
  last_tick_ns_ = monotonic_now_ns();
  bool saw_observation = false;
  int idle_polls = 0;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      // A scheduling burst sends an observation with nearly every request. While they come, the
      // writer wakes by itself every kObservationPollNs and takes them in batches, so that a
      // request does not pay for waking this thread (a futex wake and an IPI: ~20 us a request
      // on a 2-core VM, measured in docs/benchmarks.md); after kIdlePolls polls without one it
      // sleeps until woken again.
      if (saw_observation) {
        writer_polls_ = true;
        idle_polls = 0;
      } else if (writer_polls_ && ++idle_polls >= kIdlePolls) {
        writer_polls_ = false;
      }
      const std::int64_t now_ns = monotonic_now_ns();
      std::int64_t wake_ns = next_tick_ns(now_ns);
      if (writer_polls_) {
        wake_ns = std::min(wake_ns, now_ns + kObservationPollNs);
      }
      auto ready = [this] {
        return stopping_ || urgent_queued_ || (!writer_polls_ && !queue_.empty());
      };
      if (wake_ns == std::numeric_limits<std::int64_t>::max()) {
        queue_cv_.wait(lock, ready);
      } else {
        queue_cv_.wait_for(
            lock, std::chrono::nanoseconds(std::max<std::int64_t>(wake_ns - now_ns, 0)), ready);
      }
      if (stopping_) {
        return;
      }
      batch.swap(queue_);
      urgent_queued_ = false;
    }
    saw_observation = false;

    bool nodes_changed = tick(monotonic_now_ns());
    // A pod table held back by its interval is published when due, even with nothing new queued.
    bool mix_changed = pod_table_due(monotonic_now_ns());
    for (auto& op : batch) {
      if (auto* apply = std::get_if<ApplyOp>(&op)) {
        const std::size_t dirty_before = dirty_.size();
        auto result = apply_message(apply->message);
        // A heartbeat moved a report time in place: nothing to publish for it.
        nodes_changed = nodes_changed || dirty_.size() != dirty_before;
        if (apply->done) {
          acks.emplace_back(std::move(apply->done), std::move(result));
        }
      } else if (auto* closed = std::get_if<StreamClosedOp>(&op)) {
        apply_stream_closed(*closed);
        nodes_changed = true;
      } else if (auto* observed = std::get_if<ObserveOp>(&op)) {
        saw_observation = true;
        const ObserveEffect effect = apply_observation(observed->observation);
        nodes_changed = nodes_changed || effect.nodes;
        mix_changed = mix_changed || effect.mix;
      } else if (auto* flush_op = std::get_if<FlushOp>(&op)) {
        flushes.push_back(std::move(flush_op->done));
      } else if (auto* pods = std::get_if<ApiPodBatch>(&op)) {
        // A batch of only CPU/memory totals (a pod without SGX was bound or left) publishes only
        // when a row in the table moved: most nodes of a large cluster are not SGX nodes.
        const bool totals_only =
            !pods->replace && pods->upserts.empty() && pods->deleted_uids.empty();
        const std::size_t dirty_before = dirty_.size();
        apply_api_pods_op(*pods);
        nodes_changed = nodes_changed || !totals_only || dirty_.size() != dirty_before;
      } else if (auto* api_nodes = std::get_if<ApiNodeBatch>(&op)) {
        apply_api_nodes_op(*api_nodes);
        nodes_changed = true;
      } else if (auto* status = std::get_if<ApiSourceStatus>(&op)) {
        nodes_changed = apply_api_status(*status) || nodes_changed;
      } else if (auto* reserve = std::get_if<ReserveOp>(&op)) {
        // Applied in queue order: a bind sees every bind queued before it (the race-free part).
        auto result = apply_reserve(reserve->request);
        nodes_changed = true;
        if (reserve->done) {
          reserved.emplace_back(std::move(reserve->done), std::move(result));
        }
      } else if (auto* cancel = std::get_if<CancelReservationOp>(&op)) {
        const std::size_t before = dirty_.size();
        ledger_.cancel_reservation(cancel->request.pod, cancel->request.node, &dirty_);
        mark_moved(before);
        nodes_changed = true;
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
    // After the publish: a bind's Binding is POSTed only once readers see its reservation.
    for (auto& [done, result] : reserved) {
      done(std::move(result));
    }
    reserved.clear();
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
      it = add_node_record(message.node_name);
    }
    NodeRecord& record = it->second;
    // A new plugin instance (restart) starts a new sequence space.
    record.instance_id = message.instance_id;
    record.last_sequence = message.sequence;
    record.plugin_version = message.plugin_version;
    record.state = std::move(*full);
    record.report_time_ns = now_ns;
    record.stream_connected = true;
    record.reported = true;
    ledger_.set_node_holders(message.node_name, record.state.holders);
    pods_dirty_ = true;
    dirty_.push_back(message.node_name);
    return record.last_sequence;
  }

  NodeRecord& record = it->second;
  if (message.sequence <= record.last_sequence) {
    // A replay or duplicate: acknowledged, not applied.
    return record.last_sequence;
  }
  if (std::holds_alternative<Heartbeat>(message.body) && record.stream_connected &&
      (message.plugin_version.empty() || message.plugin_version == record.plugin_version)) {
    record.last_sequence = message.sequence;
    refresh_report_time(message.node_name, record, now_ns);
    return record.last_sequence;
  }
  if (auto* full = std::get_if<NodeState>(&message.body)) {
    record.state = std::move(*full);
    ledger_.set_node_holders(message.node_name, record.state.holders);
    pods_dirty_ = true;
  } else if (auto* change = std::get_if<NodeChange>(&message.body)) {
    const bool holders_touched =
        !change->holders_upserted.empty() || !change->holders_removed.empty();
    merge_change(*change, record.state);
    if (holders_touched) {
      ledger_.set_node_holders(message.node_name, record.state.holders);
      pods_dirty_ = true;
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

void ClusterStateImpl::refresh_report_time(const std::string& name, NodeRecord& record,
                                           std::int64_t now_ns) {
  record.report_time_ns = now_ns;
  record.row.report_time_ns = now_ns;  // the cached row, which reserve's fit reads
  if (table_ != nullptr && !table_structure_changed_) {
    table_->touch_report_time(record.table_index, now_ns);
  } else {
    dirty_.push_back(name);  // not in a published table yet: the next publish carries the time
  }
}

std::map<std::string, ClusterStateImpl::NodeRecord, std::less<>>::iterator
ClusterStateImpl::add_node_record(const std::string& name) {
  table_structure_changed_ = true;
  return nodes_.emplace(name, NodeRecord{}).first;
}

void ClusterStateImpl::erase_node_record(
    std::map<std::string, NodeRecord, std::less<>>::iterator it) {
  table_structure_changed_ = true;
  nodes_.erase(it);
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
                                   request.provision_slots, &dirty_, monotonic_now_ns());
    // Only the nodes holding this pod moved; a pod no node holds yet is just remembered.
    effect.nodes = dirty_.size() != dirty_before;
    pods_dirty_ = pods_dirty_ || effect.nodes;
  }
  if (observation.join_mix && options_.keep_pod_mix && request.epc_bytes > 0) {
    pod_mix_.observe(request);
    ++pods_in_mix_;
    effect.mix = true;
  }
  return effect;
}

void ClusterStateImpl::rebuild_row(const std::string& name, NodeRecord& record) const {
  const core::Ledger::NodeTotals totals = ledger_.totals(name);
  // The node object's allocatable EPC, -1 when it gives none (plain integers: GCC 12 sees a
  // maybe-uninitialized optional in the log line below otherwise).
  const bool has_api_epc = record.api.has_value() && record.api->epc_bytes.has_value();
  const std::int64_t api_epc = has_api_epc ? *record.api->epc_bytes : -1;

  core::NodeRow row;
  row.ever_reported = true;
  row.epc_requested_bytes = totals.epc_requested_bytes;
  if (record.reported) {
    const NodeState& s = record.state;
    row.has_sgx = s.sgx_present;
    row.health = s.health.healthy ? core::NodeHealth::kHealthy : core::NodeHealth::kUnhealthy;
    row.live_used_known = s.live_epc.known;
    row.epc_live_used_bytes = s.live_epc.known ? s.live_epc.used_bytes : 0;
    row.epc_capacity_bytes = s.epc_capacity_bytes;
    // extender/reports refuses reports with more sections than the row holds (the two limits are
    // tied by a static_assert there); another producer's extra sections are clamped, not trusted.
    const std::size_t sections = std::min(s.epc_sections.size(), row.epc_section_bytes.size());
    row.epc_section_count = static_cast<std::int32_t>(sections);
    for (std::size_t i = 0; i < sections; ++i) {
      row.epc_section_bytes[i] = s.epc_sections[i].size_bytes;
    }
    row.enclave_slots_total = s.enclave_slots.total;
    // The plugin's count can lag a bind the ledger already knows, and vice versa: trust the larger.
    row.enclave_slots_used = std::max(s.enclave_slots.used, totals.enclave_slots);
    row.provision_slots_total = s.provision_slots.total;
    row.provision_slots_used = std::max(s.provision_slots.used, totals.provision_slots);
    row.report_time_ns = record.report_time_ns;
    record.info.health_reason = s.health.reason;
    record.info.capacity_source = CapacitySource::kPluginReport;
  } else {
    // Intel's stack only: the node object is the report. Its freshness is the node watch's (a
    // watch that is down for longer than the staleness limit makes these rows untrusted).
    const ApiNode& api = *record.api;
    row.has_sgx = api.epc_bytes.value_or(0) > 0;
    const bool ready = api.readiness != NodeReadiness::kNotReady;
    row.health = ready ? core::NodeHealth::kHealthy : core::NodeHealth::kUnhealthy;
    row.epc_capacity_bytes = api.epc_bytes.value_or(0);
    row.epc_section_count = 1;
    row.epc_section_bytes[0] = row.epc_capacity_bytes;
    // Slots not advertised are not ours to limit: kubelet admits by what the node advertises.
    constexpr std::int64_t kUnlimitedSlots = std::int64_t{1} << 31;
    row.enclave_slots_total = api.enclave_slots.value_or(kUnlimitedSlots);
    row.enclave_slots_used = totals.enclave_slots;
    row.provision_slots_total = api.provision_slots.value_or(kUnlimitedSlots);
    row.provision_slots_used = totals.provision_slots;
    row.report_time_ns = api_alive_ns_;
    record.info.health_reason = ready ? std::string() : std::string("node is not Ready");
    record.info.capacity_source = CapacitySource::kNodeAllocatable;
  }
  // CPU and memory as kube-scheduler's NodeResourcesFit sees them: known once the node object gives
  // both allocatables and the first pod list has summed the requests (before it the sums would
  // be too low, which would read as room that is not there).
  if (record.api.has_value()) {
    row.cpu_allocatable_milli = record.api->cpu_allocatable_milli.value_or(0);
    row.memory_allocatable_bytes = record.api->memory_allocatable_bytes.value_or(0);
    row.cpu_memory_known = pods_synced_ && record.api->cpu_allocatable_milli.has_value() &&
                           record.api->memory_allocatable_bytes.has_value();
  }
  if (auto requested = api_requested_.find(name); requested != api_requested_.end()) {
    row.cpu_requested_milli = requested->second.cpu_milli;
    row.memory_requested_bytes = requested->second.memory_bytes;
  }
  record.row = row;

  record.info.name = name;
  record.info.plugin_version = record.plugin_version;
  record.info.ledger_pods = totals.pods;
  record.info.ledger_pods_unknown_epc = totals.pods_with_unknown_epc;
  record.info.stream_connected = record.stream_connected;
  record.info.api_epc_bytes = api_epc;
  const bool mismatch =
      record.reported && has_api_epc && api_epc != record.state.epc_capacity_bytes;
  if (mismatch != record.mismatch_logged) {
    // Once per change, not per rebuild: a lasting disagreement must not flood the log.
    if (mismatch) {
      std::fprintf(stderr,
                   "epc-extender: node %s: the plugin reports %lld bytes of EPC but the node's "
                   "allocatable sgx.intel.com/epc is %lld; using the plugin's\n",
                   name.c_str(), static_cast<long long>(record.state.epc_capacity_bytes),
                   static_cast<long long>(api_epc));
    } else {
      std::fprintf(stderr, "epc-extender: node %s: plugin and node agree on EPC capacity again\n",
                   name.c_str());
    }
    record.mismatch_logged = mismatch;
  }
  record.info.capacity_mismatch = mismatch;
}

void ClusterStateImpl::publish(bool nodes_changed) {
  assert_writer_thread();
  std::shared_ptr<NodeTable> table;
  if (nodes_changed || table_ == nullptr) {
    for (const auto& name : dirty_) {
      auto it = nodes_.find(name);
      if (it != nodes_.end()) {
        rebuild_row(it->first, it->second);
      }
    }
    if (table_structure_changed_ || table_ == nullptr) {
      // Nodes came or went: a new directory and new chunks, in name order.
      table = std::make_shared<NodeTable>();
      table->reserve(nodes_.size());
      std::uint32_t index = 0;
      for (auto& [name, record] : nodes_) {
        table->add(record.info, record.row);
        record.table_index = index++;
      }
      table_structure_changed_ = false;
    } else {
      // The same nodes: share every chunk but the changed nodes' (copy on write).
      table = NodeTable::next_version(*table_);
      for (const auto& name : dirty_) {
        auto it = nodes_.find(name);
        if (it != nodes_.end()) {
          table->set(it->second.table_index, it->second.info, it->second.row);
        }
      }
    }
    dirty_.clear();
    table_ = table;
  } else {
    // Only the pod mix moved: the new snapshot shares the node table as it is.
    table = table_;
  }
  std::shared_ptr<const PodTable> pods = snapshot()->shared_pods();
  if (const std::int64_t now_ns = monotonic_now_ns(); pod_table_due(now_ns)) {
    pods = build_pod_table();
    pods_dirty_ = false;
    last_pod_table_ns_ = now_ns;
    // A rebuild copies every SGX pod: with many pods changing (plugins re-registering, a busy
    // watch) it could take most of the writer's time, so it may use a twentieth of it at most.
    const std::int64_t took_ns = monotonic_now_ns() - now_ns;
    pod_table_gap_ns_ = options_.pod_table_interval_ns > 0
                            ? std::max(options_.pod_table_interval_ns, 19 * took_ns)
                            : 0;
  }
  auto built = std::make_shared<ClusterSnapshot>(std::move(table), std::move(pods), pod_mix_,
                                                 pods_in_mix_, ++version_);
  built->set_sources_ready(sources_ready());
  ClusterSnapshotPtr snapshot = std::move(built);
  ClusterSnapshotPtr previous;
  {
    std::lock_guard lock(published_mutex_);
    previous = std::exchange(published_, std::move(snapshot));
  }
  // `previous` is released here, outside the lock (it may be the last reference).
}

// ---------------------------------------------------------------------------------------------
// The API watch, reservations and periodic work.

void ClusterStateImpl::mark_moved(std::size_t dirty_before) {
  if (dirty_.size() != dirty_before) {
    pods_dirty_ = true;
  }
}

void ClusterStateImpl::apply_api_pods_op(ApiPodBatch& batch) {
  assert_writer_thread();
  const std::size_t before = dirty_.size();
  if (batch.replace) {
    ledger_.replace_api_pods(batch.upserts, &dirty_);
  } else {
    for (const core::ApiPod& pod : batch.upserts) {
      ledger_.upsert_api_pod(pod, &dirty_);
    }
  }
  for (const std::string& uid : batch.deleted_uids) {
    ledger_.remove_api_pod(uid, &dirty_);
  }
  mark_moved(before);  // a priority change of a bound pod moves its node too
  apply_node_requested(batch);
  if (batch.replace) {
    set_pods_synced();
  }
}

void ClusterStateImpl::apply_node_requested(ApiPodBatch& batch) {
  assert_writer_thread();
  if (batch.replace) {
    std::map<std::string, NodeCpuMemoryRequested, std::less<>> replaced;
    for (const NodeCpuMemoryRequested& totals : batch.node_requested) {
      if (totals.pods > 0) {
        replaced.insert_or_assign(totals.node, totals);
      }
    }
    // Only rows whose totals moved are rebuilt (a relist of a quiet cluster moves none).
    for (const auto& [name, record] : nodes_) {
      auto before = api_requested_.find(name);
      auto after = replaced.find(name);
      const bool had = before != api_requested_.end();
      const bool has = after != replaced.end();
      if (had != has || (had && before->second != after->second)) {
        dirty_.push_back(name);
      }
    }
    api_requested_ = std::move(replaced);
    return;
  }
  for (const NodeCpuMemoryRequested& totals : batch.node_requested) {
    auto it = api_requested_.find(totals.node);
    bool moved = false;
    if (totals.pods > 0) {
      if (it == api_requested_.end()) {
        api_requested_.emplace(totals.node, totals);
        moved = true;
      } else {
        moved = it->second != totals;
        it->second = totals;
      }
    } else if (it != api_requested_.end()) {
      api_requested_.erase(it);  // its last pod left
      moved = true;
    }
    if (moved && nodes_.contains(totals.node)) {
      dirty_.push_back(totals.node);
    }
  }
}

void ClusterStateImpl::set_pods_synced() {
  if (pods_synced_) {
    return;
  }
  pods_synced_ = true;
  for (const auto& [name, record] : nodes_) {
    dirty_.push_back(name);  // cpu_memory_known may turn true
  }
}

void ClusterStateImpl::apply_api_nodes_op(ApiNodeBatch& batch) {
  assert_writer_thread();
  if (batch.replace) {
    std::set<std::string_view> listed;
    for (const ApiNode& node : batch.upserts) {
      listed.insert(node.name);
    }
    for (auto& [name, record] : nodes_) {
      if (record.api.has_value() && !listed.contains(name)) {
        batch.deleted.push_back(name);
      }
    }
    nodes_synced_ = true;
  }
  for (ApiNode& node : batch.upserts) {
    apply_api_node(std::move(node));
  }
  for (const std::string& name : batch.deleted) {
    auto it = nodes_.find(name);
    if (it == nodes_.end()) {
      continue;
    }
    if (it->second.reported) {
      it->second.api.reset();
      dirty_.push_back(name);
    } else {
      erase_node_record(it);  // an API-only node that is gone; its pods leave through the pod watch
    }
  }
  api_alive_ns_ = monotonic_now_ns();
}

void ClusterStateImpl::apply_api_node(ApiNode node) {
  auto it = nodes_.find(node.name);
  if (it == nodes_.end()) {
    if (!node.advertises_sgx()) {
      return;  // neither our plugin nor Intel's stack: the node stays out of the table
    }
    it = add_node_record(node.name);
  } else if (!it->second.reported && !node.advertises_sgx()) {
    erase_node_record(it);  // Intel's stack stopped advertising SGX and no plugin of ours reports
    return;
  }
  if (it->second.api != node) {
    dirty_.push_back(node.name);
  }
  it->second.api = std::move(node);
}

bool ClusterStateImpl::apply_api_status(const ApiSourceStatus& status) {
  assert_writer_thread();
  bool changed = false;
  const std::int64_t now_ns = monotonic_now_ns();
  if (status.resource == ApiResource::kPods) {
    if (status.watching && !pods_watching_) {
      // Nothing could confirm a reservation while the watch was down: restart their clocks.
      ledger_.extend_reservations(now_ns + options_.reservation_ttl_ns);
    }
    pods_watching_ = status.watching;
    changed = pods_synced_ != (pods_synced_ || status.synced);
    if (status.synced) {
      set_pods_synced();
    }
  } else {
    nodes_watching_ = status.watching;
    changed = nodes_synced_ != (nodes_synced_ || status.synced);
    nodes_synced_ = nodes_synced_ || status.synced;
    if (status.watching) {
      api_alive_ns_ = now_ns;
      for (const auto& [name, record] : nodes_) {
        if (!record.reported) {
          dirty_.push_back(name);
          changed = true;
        }
      }
    }
  }
  return changed;
}

bool ClusterStateImpl::pod_table_due(std::int64_t now_ns) const {
  return pods_dirty_ && now_ns - last_pod_table_ns_ >= pod_table_gap_ns_;
}

bool ClusterStateImpl::sources_ready() const {
  return !options_.api_configured || (pods_synced_ && nodes_synced_);
}

common::Result<BindReservation> ClusterStateImpl::apply_reserve(const BindRequest& request) {
  assert_writer_thread();
  if (!sources_ready()) {
    return common::Error{std::string(kNotReadyError)};
  }
  const std::optional<core::PodDemand> demand = ledger_.demand(request.pod);
  if (!demand.has_value()) {
    return common::Error{"pod " + request.pod.namespace_name + " (uid " + request.pod.uid +
                         ") is unknown to the extender: neither the API watch nor a filter "
                         "request has shown what it asks for"};
  }
  BindReservation reservation;
  reservation.request = demand->request;
  if (demand->bound_node == request.node) {
    reservation.already_placed = true;  // a retried bind: its EPC is counted there already
    return reservation;
  }
  if (!demand->bound_node.empty() && demand->bound_source == core::LedgerSource::kApiWatch) {
    return common::Error{"pod " + request.pod.namespace_name + " is already bound to node " +
                         demand->bound_node};
  }
  if (!demand->request.wants_sgx()) {
    return reservation;  // nothing of ours to count
  }
  const std::int64_t now_ns = monotonic_now_ns();
  auto it = nodes_.find(request.node);
  core::FitResult fit;
  if (it == nodes_.end()) {
    fit.reason = core::FitReason::kNoReport;
    fit.unresolvable = true;
  } else {
    rebuild_row(it->first, it->second);  // the row as of now, with every reservation before it
    const core::FitContext context{.now_ns = now_ns,
                                   .stale_after_ns = options_.stale_after_ns,
                                   .accounting = options_.accounting};
    fit = core::fit(demand->request, it->second.row, context);
  }
  if (!fit.fits()) {
    reservation.refused = fit;
    return reservation;
  }
  const std::size_t before = dirty_.size();
  ledger_.reserve(request.pod, request.node, demand->request, now_ns + options_.reservation_ttl_ns,
                  &dirty_);
  mark_moved(before);
  return reservation;
}

std::int64_t ClusterStateImpl::next_tick_ns(std::int64_t now_ns) const {
  constexpr std::int64_t kHintSweepNs = 10'000'000'000;
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  if (pods_watching_) {
    if (auto expiry = ledger_.next_reservation_expiry()) {
      next = std::min(next, *expiry);
    }
  }
  if (options_.hint_ttl_ns > 0) {
    next = std::min(next, last_tick_ns_ + kHintSweepNs);
  }
  if (pods_dirty_) {
    next = std::min(next, last_pod_table_ns_ + pod_table_gap_ns_);
  }
  (void)now_ns;
  return next;
}

bool ClusterStateImpl::tick(std::int64_t now_ns) {
  assert_writer_thread();
  if (now_ns < next_tick_ns(now_ns)) {
    return false;
  }
  const std::size_t before = dirty_.size();
  if (pods_watching_) {
    ledger_.expire_reservations(now_ns, &dirty_);
  }
  if (options_.hint_ttl_ns > 0) {
    ledger_.expire_hints(now_ns - options_.hint_ttl_ns);
  }
  last_tick_ns_ = now_ns;
  mark_moved(before);
  return dirty_.size() != before;
}

std::shared_ptr<const PodTable> ClusterStateImpl::build_pod_table() const {
  auto table = std::make_shared<PodTable>();
  ledger_.for_each_entry([&](std::string_view node, const core::LedgerEntry& entry) {
    table->add(PodRecord{
        .uid = entry.pod.uid,
        .namespace_name = entry.pod.namespace_name,
        .node = std::string(node),
        .request = core::PodRequest{.epc_bytes = entry.epc_bytes.value_or(0),
                                    .enclave_slots = entry.enclave_slots,
                                    .provision_slots = entry.provision_slots},
        .priority = entry.priority,
        .bound = entry.presence_source != core::LedgerSource::kBind,
        .source = entry.presence_source,
        .epc_known = entry.epc_bytes.has_value(),
    });
  });
  table->set_ledger_sizes(LedgerSizes{.api_pods = ledger_.api_pod_count(),
                                      .reservations = ledger_.reservation_count(),
                                      .remembered_requests = ledger_.remembered_request_count()});
  table->seal();
  return table;
}

}  // namespace epc::state
