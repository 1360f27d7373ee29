#include "tools/load/cycle_batch.h"

#include <algorithm>
#include <cstdio>

#include "tools/load/scheduler_request.h"

namespace epc::tools::load {

common::Result<CycleBatch> run_cycle_batch(SchedulingCycle& cycle, std::string_view names_json,
                                           std::size_t names_count,
                                           const CycleBatchOptions& options,
                                           const std::atomic<bool>* stop) {
  using Clock = std::chrono::steady_clock;
  CycleBatch batch;
  batch.names_sent = names_count;
  std::uint64_t index = options.first_pod_index;
  for (std::size_t i = 0; i < options.warmup_pods; ++i, ++index) {
    if (auto record = cycle.run(pod_json(load_pod(index, options.pod_epc_bytes, options.run_tag)),
                                names_json, names_count);
        !record.ok()) {
      return record.error();
    }
  }
  if (options.pods > 0) {
    batch.latencies_ns.reserve(options.pods);
  }
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + options.duration;
  for (;; ++index) {
    if (options.pods > 0 && batch.pods >= options.pods) {
      break;
    }
    if (options.duration.count() > 0 && Clock::now() >= deadline) {
      break;
    }
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      break;
    }
    // Built outside the timed part: kube-scheduler has the pod decoded in its cache already.
    const std::string pod = pod_json(load_pod(index, options.pod_epc_bytes, options.run_tag));
    auto record = cycle.run(pod, names_json, names_count);
    if (!record.ok()) {
      return common::Error{"pod " + std::to_string(index) + ": " + record.error().message};
    }
    batch.latencies_ns.push_back(record->latency_ns);
    batch.wire += record->wire;
    batch.nodes_kept += record->nodes_kept;
    batch.nodes_kept_min =
        batch.pods == 0 ? record->nodes_kept : std::min(batch.nodes_kept_min, record->nodes_kept);
    batch.nodes_kept_max = std::max(batch.nodes_kept_max, record->nodes_kept);
    batch.prioritized += record->prioritized ? 1 : 0;
    ++batch.pods;
  }
  batch.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  batch.next_pod_index = index;
  return batch;
}

std::string describe_batch(CycleBatch& batch) {
  std::vector<std::int64_t> sorted = batch.latencies_ns;
  const LatencySummary latency = summarize_latencies(sorted);
  const double pods = batch.pods == 0 ? 1.0 : static_cast<double>(batch.pods);
  char text[1024];
  std::snprintf(
      text, sizeof text,
      "cycles:            %zu pods in %.2f s (%.0f pods/s), %zu names per filter, %zu prioritized\n"
      "latency per cycle: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  (mean %.3f ms)\n"
      "round trips/pod:   %.2f  (%llu new connections during the batch: 0 = keep-alive held)\n"
      "bytes per pod:     sent %.1f KB, received %.1f KB (headers included)\n"
      "nodes kept/filter: mean %.1f  min %zu  max %zu\n",
      batch.pods, batch.seconds,
      batch.seconds > 0 ? static_cast<double>(batch.pods) / batch.seconds : 0.0, batch.names_sent,
      batch.prioritized, latency.p50_ms, latency.p90_ms, latency.p99_ms, latency.max_ms,
      latency.mean_ms, static_cast<double>(batch.wire.round_trips) / pods,
      static_cast<unsigned long long>(batch.wire.connections),
      static_cast<double>(batch.wire.bytes_sent) / pods / 1000.0,
      static_cast<double>(batch.wire.bytes_received) / pods / 1000.0,
      static_cast<double>(batch.nodes_kept) / pods, batch.nodes_kept_min, batch.nodes_kept_max);
  return text;
}

}  // namespace epc::tools::load
