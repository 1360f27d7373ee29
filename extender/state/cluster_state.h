#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "extender/core/ledger.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_mix.h"
#include "extender/core/pod_request.h"
#include "extender/state/api_message.h"
#include "extender/state/cluster_snapshot.h"
#include "extender/state/report_message.h"
#include "extender/state/scheduler_observation.h"

namespace epc::state {

using ClusterSnapshotPtr = std::shared_ptr<const ClusterSnapshot>;

// The extender's picture of the cluster: the latest report per node, the ledger of SGX pods and the
// recent pod mix.
//
// Threading: one internal writer thread owns all mutable state. Everything that changes it arrives
// as a value on one queue: report messages (extender/reports), scheduler observations (the HTTP
// routes), API watch batches (extender/kube) and bind reservations. The writer applies what is
// queued in batches, then publishes a new immutable ClusterSnapshot. Readers (HTTP threads) call
// snapshot(), which never waits for the writer. All public methods are thread-safe.
class ClusterState {
 public:
  struct Options {
    std::size_t request_memory_pods = 100000;  // remembered scheduler requests (bounded)
    // Keep the recent pod mix from observations with join_mix (FragmentationAware reads it from
    // the snapshot); without it observations only feed the ledger.
    bool keep_pod_mix = false;
    double mix_half_life_pods = core::PodMix::kDefaultHalfLifePods;
    // Called on the writer thread after each publication that changed the node table, before the
    // acknowledgements of the messages in it (metrics refresh: an Ack then implies /metrics shows
    // the report). Not called when only the pod mix moved. May be empty.
    std::function<void(const ClusterSnapshot&)> on_publish;

    // Fit of a bind's reservation: the same rules as filter.
    core::NodeAccounting accounting;
    std::int64_t stale_after_ns = 0;  // 0 = reports never go stale
    // A reservation not confirmed by the API watch within this long is dropped (only while the pod
    // watch is open: with the watch down, nothing can confirm it and dropping it would undercount).
    std::int64_t reservation_ttl_ns = 30'000'000'000;
    // A pod seen only in filter/prioritize is a hint remembered this long (0 = until evicted).
    std::int64_t hint_ttl_ns = 300'000'000'000;
    // The API watch is configured: readiness waits for the first pod and node lists.
    bool api_configured = false;
    // The snapshot's pod table (read by preempt only) is rebuilt at most this often while pods
    // keep changing: a busy watch must not make every publish copy every SGX pod. The last change
    // is always published within this interval. 0 = on every change (epc-extender uses 20 ms).
    // A rebuild may take a twentieth of the writer's time at most: after one that took T, the
    // next waits max(interval, 19 T) (a large table's rebuild runs less often than the interval).
    std::int64_t pod_table_interval_ns = 0;
  };

  static std::unique_ptr<ClusterState> create(Options options);
  virtual ~ClusterState() = default;

  // The newest published snapshot. Never null (empty before the first report).
  virtual ClusterSnapshotPtr snapshot() const = 0;

  using ApplyDone = std::function<void(common::Result<std::uint64_t>)>;

  // Queues one report message for the writer. `done` runs on the writer thread once a snapshot that
  // includes the message is published, with the applied sequence, or with an error (a change before
  // any snapshot of this instance, a sequence from an older instance, …). Never blocks: gRPC
  // callback threads call it.
  virtual void apply_async(ReportMessage message, ApplyDone done) = 0;

  // Blocking convenience over apply_async (tests, tools).
  common::Result<std::uint64_t> apply(ReportMessage message);

  // The stream of (node, instance) ended. The node keeps its last state (it goes stale by age).
  virtual void stream_closed(const std::string& node_name, const std::string& instance_id) = 0;

  // Queues what the scheduler showed about a pod for the writer (ledger note, pod mix). Never
  // blocks on report ingestion and never waits for the writer to wake: during a scheduling burst
  // the writer takes observations every 2 ms by itself, so the snapshot that includes one is
  // published within a few milliseconds (flush() waits for it).
  virtual void observe(SchedulerObservation observation) = 0;

  // ---- the Kubernetes API watch (extender/kube) ----
  virtual void apply_api_pods(ApiPodBatch batch) = 0;
  virtual void apply_api_nodes(ApiNodeBatch batch) = 0;
  virtual void api_status(ApiSourceStatus status) = 0;

  // ---- bind: reserve-and-bind ----
  using ReserveDone = std::function<void(common::Result<BindReservation>)>;
  // Under the writer: checks that the pod still fits `node` against everything bound, reserved and
  // assumed and, if so, reserves it there (a TTL until the API confirms). `done` runs on the writer
  // thread with the reservation or the reason it was refused; it must not block.
  virtual void reserve_async(BindRequest request, ReserveDone done) = 0;
  // The Binding for a reservation failed: release it.
  virtual void cancel_reservation(BindRequest request) = 0;

  // Blocks until every update queued before this call is published (tests, orderly shutdown).
  virtual void flush() = 0;
};

}  // namespace epc::state
