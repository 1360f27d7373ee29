#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "extender/core/ledger.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_mix.h"
#include "extender/state/cluster_snapshot.h"
#include "extender/state/cluster_state.h"

namespace epc::state {

// The ClusterState with one writer thread.
//
// Producers (gRPC callback threads, HTTP threads) push operations onto a multi-producer queue and
// hold its mutex only for the push. The writer drains everything queued in one go, applies it to
// the state it alone owns (per-node records, the ledger, the pod mix), publishes one immutable
// ClusterSnapshot for the whole batch by swapping one shared_ptr, runs Options::on_publish and
// then the batch's `done` callbacks. Readers copy the published pointer and never wait for the
// writer.
//
// A publish rebuilds the rows of the nodes marked dirty (a report for them, or a ledger change that
// moved their totals) into a new version of the node table that shares every other chunk with the
// previous one (NodeTable::next_version); only when nodes come or go is the table built anew. A
// heartbeat moves the node's report time in place and publishes nothing; a batch that only moved
// the pod mix publishes a snapshot that shares the previous table. So ingest costs per message
// what the message changed, not the cluster's size.
//
// Destruction stops the writer after the batch in flight; operations still queued get an error
// through their `done` callback (and flush() waiters are released), so no caller waits forever.
class ClusterStateImpl final : public ClusterState {
 public:
  explicit ClusterStateImpl(Options options);
  ~ClusterStateImpl() override;

  ClusterStateImpl(const ClusterStateImpl&) = delete;
  ClusterStateImpl& operator=(const ClusterStateImpl&) = delete;

  // ClusterState
  ClusterSnapshotPtr snapshot() const override;
  void apply_async(ReportMessage message, ApplyDone done) override;
  void stream_closed(const std::string& node_name, const std::string& instance_id) override;
  void observe(SchedulerObservation observation) override;
  void apply_api_pods(ApiPodBatch batch) override;
  void apply_api_nodes(ApiNodeBatch batch) override;
  void api_status(ApiSourceStatus status) override;
  void reserve_async(BindRequest request, ReserveDone done) override;
  void cancel_reservation(BindRequest request) override;
  void flush() override;

 private:
  // ---- queued operations (producer side) ----
  struct ApplyOp {
    ReportMessage message;
    ApplyDone done;
  };
  struct StreamClosedOp {
    std::string node_name;
    std::string instance_id;
  };
  struct ObserveOp {
    SchedulerObservation observation;
  };
  struct FlushOp {
    std::function<void()> done;
  };
  struct ReserveOp {
    BindRequest request;
    ReserveDone done;
  };
  struct CancelReservationOp {
    BindRequest request;
  };
  using Op = std::variant<ApplyOp, StreamClosedOp, ObserveOp, FlushOp, ApiPodBatch, ApiNodeBatch,
                          ApiSourceStatus, ReserveOp, CancelReservationOp>;

  void push(Op op);

  // ---- writer side: everything below is touched by the writer thread only ----
  struct NodeRecord {
    bool reported = false;  // a plugin of ours has reported (else the row comes from `api`)
    std::optional<ApiNode> api;
    bool mismatch_logged = false;  // the capacity mismatch last logged for this node
    std::string instance_id;
    std::uint64_t last_sequence = 0;
    std::string plugin_version;
    NodeState state;
    std::int64_t report_time_ns = 0;
    bool stream_connected = false;
    // Cached outputs, rebuilt when the node is dirty.
    core::NodeRow row;
    NodeInfo info;
    // The node's place in table_ (valid while table_structure_changed_ is false).
    std::uint32_t table_index = 0;
  };

  void run_writer();
  void assert_writer_thread() const;
  // Applies one message; the value is the sequence to acknowledge.
  common::Result<std::uint64_t> apply_message(ReportMessage& message);
  void apply_stream_closed(const StreamClosedOp& op);
  // What an observation changed: node rows (marked dirty) and/or the pod mix.
  struct ObserveEffect {
    bool nodes = false;
    bool mix = false;
  };
  ObserveEffect apply_observation(const SchedulerObservation& observation);
  void apply_api_pods_op(ApiPodBatch& batch);
  // The per-node CPU/memory totals of a pod batch (replacing all of them with `replace`).
  void apply_node_requested(ApiPodBatch& batch);
  // The first full pod list is in: every row may now know its CPU and memory.
  void set_pods_synced();
  void apply_api_nodes_op(ApiNodeBatch& batch);
  void apply_api_node(ApiNode node);
  bool apply_api_status(const ApiSourceStatus& status);
  common::Result<BindReservation> apply_reserve(const BindRequest& request);
  // Periodic work: reservations and hints that expired, API-only rows kept fresh.
  bool tick(std::int64_t now_ns);
  std::int64_t next_tick_ns(std::int64_t now_ns) const;
  void mark_moved(std::size_t dirty_before);
  void rebuild_row(const std::string& name, NodeRecord& record) const;
  // A heartbeat: only the report time moves, in place in the published table when the node is in
  // it (no publish needed), else through the dirty list.
  void refresh_report_time(const std::string& name, NodeRecord& record, std::int64_t now_ns);
  std::map<std::string, NodeRecord, std::less<>>::iterator add_node_record(const std::string& name);
  void erase_node_record(std::map<std::string, NodeRecord, std::less<>>::iterator it);
  std::shared_ptr<const PodTable> build_pod_table() const;
  bool sources_ready() const;
  bool pod_table_due(std::int64_t now_ns) const;
  // Publishes a snapshot; a new node table when `nodes_changed`, else the current one shared.
  void publish(bool nodes_changed);

  Options options_;

  // Queue (guarded by queue_mutex_).
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::vector<Op> queue_;  // guarded by queue_mutex_
  bool stopping_ = false;  // guarded by queue_mutex_
  // Guarded by queue_mutex_: an op other than an observation waits in queue_ (it wakes the
  // writer), and the writer polls for observations by itself (run_writer).
  bool urgent_queued_ = false;
  bool writer_polls_ = false;
  static constexpr std::int64_t kObservationPollNs = 2'000'000;
  static constexpr int kIdlePolls = 250;  // 0.5 s of polls without an observation

  // Published snapshot: written by the writer, read by anyone. The mutex is held only to copy or
  // swap the pointer (a reference-count increment), never while a batch is applied or a snapshot
  // built, so readers never wait for the writer's work. (libstdc++ 12's atomic<shared_ptr> is the
  // same kind of short lock, but its load() unlocks with relaxed order, which TSan reports.)
  mutable std::mutex published_mutex_;
  ClusterSnapshotPtr published_;  // guarded by published_mutex_

  // Writer-owned state.
  std::map<std::string, NodeRecord, std::less<>> nodes_;
  std::vector<std::string> dirty_;  // nodes whose cached row must be rebuilt before publishing
  // The newest node table the writer published, and whether nodes came or went since (the next
  // publish then builds a new directory instead of a version of this table).
  std::shared_ptr<NodeTable> table_;
  bool table_structure_changed_ = true;
  bool pods_dirty_ = false;  // the ledger's pods changed: the pod table is rebuilt
  // API sources: synced = a first full list was applied; watching = the stream is open now.
  bool pods_synced_ = false;
  bool nodes_synced_ = false;
  bool pods_watching_ = false;
  bool nodes_watching_ = false;
  std::int64_t api_alive_ns_ = 0;  // last sign of life of the node watch (freshness of API rows)
  std::int64_t last_tick_ns_ = 0;
  std::int64_t last_pod_table_ns_ = 0;  // when the published pod table was built
  std::int64_t pod_table_gap_ns_ = 0;   // the next rebuild waits this long (interval, or 19x cost)
  // CPU and memory requested per node by all bound pods (from the pod watch), for every node with
  // one, in the table or not (a node may start reporting, or advertise SGX, later).
  std::map<std::string, NodeCpuMemoryRequested, std::less<>> api_requested_;
  core::Ledger ledger_;
  core::PodMix pod_mix_;
  std::uint64_t pods_in_mix_ = 0;
  std::uint64_t version_ = 0;
  std::atomic<std::thread::id> writer_id_;  // set by the writer thread itself when it starts

  std::thread writer_;  // last member: started once everything above is constructed
};

}  // namespace epc::state
