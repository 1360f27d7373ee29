#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tools/load/percentiles.h"
#include "tools/load/scheduling_cycle.h"

namespace epc::tools::load {

// Which pods a batch schedules and for how long.
struct CycleBatchOptions {
  std::size_t pods = 0;                   // stop after this many cycles (0: no count limit)
  std::chrono::milliseconds duration{0};  // stop after this long (0: no time limit)
  std::size_t warmup_pods = 0;            // cycles run first and not recorded
  std::uint64_t first_pod_index = 0;      // load_pod() index of the first pod; the next go up by 1
  std::int64_t pod_epc_bytes = 64 << 20;
  std::string run_tag = "load";  // load_pod()'s run tag
};

// Every cycle of a batch, and their sums.
struct CycleBatch {
  std::vector<std::int64_t> latencies_ns;  // one per recorded cycle, in order
  WireCounters wire;                       // summed over the recorded cycles
  std::size_t pods = 0;
  std::size_t prioritized = 0;
  std::uint64_t nodes_kept = 0;  // summed
  std::size_t nodes_kept_min = 0;
  std::size_t nodes_kept_max = 0;
  std::size_t names_sent = 0;  // per filter
  double seconds = 0;          // wall time of the recorded cycles, back to back
  std::uint64_t next_pod_index = 0;
};

// Runs cycles back to back, one pod after the other (each pod is new to the extender, as in a
// real scheduling queue), until the count or the time is reached or `stop` is set. The first
// error ends the batch and is returned.
common::Result<CycleBatch> run_cycle_batch(SchedulingCycle& cycle, std::string_view names_json,
                                           std::size_t names_count,
                                           const CycleBatchOptions& options,
                                           const std::atomic<bool>* stop = nullptr);

// The batch as the `cycles` command prints it: latency percentiles, round trips, bytes and nodes
// kept per pod, and the scheduling rate.
std::string describe_batch(CycleBatch& batch);

}  // namespace epc::tools::load
