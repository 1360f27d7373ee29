#include "tools/load/paced_cycles.h"

#include <algorithm>
#include <cstdio>
#include <latch>
#include <thread>

#include "tools/load/percentiles.h"
#include "tools/load/scheduler_client.h"
#include "tools/load/scheduler_request.h"
#include "tools/load/scheduling_cycle.h"

namespace epc::tools::load {

namespace {

using Clock = std::chrono::steady_clock;

// Samples reserved up front per connection at most: a 60 s run at 10,000/s needs 600,000 in all.
constexpr std::size_t kMaxReserve = 4'000'000;
// The common start lies this far after the last connection finished its warm-up, so that every
// thread is waiting on it (and none starts late) when it comes.
constexpr auto kStartMargin = std::chrono::milliseconds(5);

void count_failure(CycleErrors& errors, const CycleFailure& failure, const std::string& message) {
  switch (failure.kind) {
    case CycleFailureKind::kTransport:
    case CycleFailureKind::kNone:  // not produced; counted somewhere rather than lost
      ++errors.transport;
      break;
    case CycleFailureKind::kStatus:
      ++errors.http_status;
      break;
    case CycleFailureKind::kErrorField:
      ++errors.error_field;
      break;
    case CycleFailureKind::kMalformed:
      ++errors.malformed;
      break;
  }
  if (errors.first.empty()) {
    errors.first = message;
  }
}

// One connection's thread: its client, its cycle, its samples.
struct ConnectionRun {
  ConnectionStats stats;
  CycleErrors warmup_errors;
  std::vector<std::int64_t> filter_ns;
  std::vector<std::int64_t> prioritize_ns;
  std::vector<std::int64_t> lag_ns;
  std::uint64_t nodes_kept = 0;
  Clock::time_point finished;
};

// What the connections share: the pods handed out, the recorded cycles claimed, the start.
struct SharedRun {
  const PacedCyclesOptions& options;
  std::string_view names_json;
  std::size_t names_count;
  const std::atomic<bool>* stop;
  std::atomic<std::uint64_t> next_pod{0};
  std::atomic<std::uint64_t> claimed{0};
  std::latch warmed;
  std::latch go{1};
  Clock::time_point start{};  // written before `go` opens, read after
};

bool stopped(const SharedRun& shared) {
  return shared.stop != nullptr && shared.stop->load(std::memory_order_relaxed);
}

// One connection's thread: the warm-up, then the paced cycles from the common start.
void run_connection(SharedRun& shared, int index, ConnectionRun& run) {
  const PacedCyclesOptions& options = shared.options;
  SchedulerClient client(options.host, options.port);
  SchedulingCycle cycle(client, options.url_prefix, options.prioritize);
  // One cycle; `record_it` false for the warm-up (its errors are kept apart).
  const auto one = [&](bool record_it, Clock::time_point scheduled) {
    const std::uint64_t pod_index = shared.next_pod.fetch_add(1, std::memory_order_relaxed);
    // Built outside the timed part: kube-scheduler has the pod decoded in its cache already.
    const std::string pod = pod_json(load_pod(pod_index, options.pod_epc_bytes, options.run_tag));
    auto record = cycle.run(pod, shared.names_json, shared.names_count);
    CycleErrors& errors = record_it ? run.stats.errors : run.warmup_errors;
    if (!record.ok()) {
      run.stats.requests += static_cast<std::uint64_t>(cycle.last_failure().requests_sent);
      count_failure(errors, cycle.last_failure(),
                    "pod " + std::to_string(pod_index) + ": " + record.error().message);
      return;
    }
    run.stats.requests += record->prioritized ? 2 : 1;
    if (options.expect_fit && record->nodes_kept == 0) {
      ++errors.none_kept;
      if (errors.first.empty()) {
        errors.first = "pod " + std::to_string(pod_index) + ": the filter kept none of " +
                       std::to_string(record->names_sent) + " nodes (stale or unknown nodes?)";
      }
      return;
    }
    ++run.stats.cycles;
    if (!record_it) {
      return;
    }
    const std::int64_t lag = std::max<std::int64_t>(
        0,
        std::chrono::duration_cast<std::chrono::nanoseconds>(record->started - scheduled).count());
    run.lag_ns.push_back(lag);
    run.filter_ns.push_back(lag + record->filter_ns);
    if (record->prioritized) {
      run.prioritize_ns.push_back(record->prioritize_ns);
    }
    run.nodes_kept += record->nodes_kept;
  };

  for (std::size_t i = 0; i < options.warmup_pods && !stopped(shared); ++i) {
    one(false, Clock::now());
  }
  // The warm-up's cycles are not the run's: only its errors stay (also in the totals).
  run.stats.cycles = 0;
  run.stats.requests = 0;
  run.stats.errors = run.warmup_errors;
  shared.warmed.count_down();
  shared.go.wait();

  const double requests_per_cycle = options.prioritize ? 2.0 : 1.0;
  const bool paced = options.rate_per_s > 0;
  // Each connection's cycles every `period`; connection i's schedule starts i/C of a period in.
  const std::chrono::duration<double> period(paced ? static_cast<double>(options.connections) *
                                                         requests_per_cycle / options.rate_per_s
                                                   : 0.0);
  const Clock::time_point first =
      shared.start + std::chrono::duration_cast<Clock::duration>(
                         period * (static_cast<double>(index) / options.connections));
  const Clock::time_point deadline = shared.start + options.duration;
  for (std::uint64_t k = 0;; ++k) {
    const Clock::time_point scheduled =
        paced ? first + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(k))
              : Clock::now();
    if (options.duration.count() > 0 && scheduled >= deadline) {
      break;
    }
    if (stopped(shared)) {
      break;
    }
    if (options.pods > 0 &&
        shared.claimed.fetch_add(1, std::memory_order_relaxed) >= options.pods) {
      break;
    }
    if (paced) {
      std::this_thread::sleep_until(scheduled);  // open loop: a late cycle goes at once
    }
    one(true, scheduled);
  }
  run.finished = Clock::now();
  run.stats.connects = client.counters().connections;
}

std::string percentiles_line(const char* what, const std::vector<std::int64_t>& samples) {
  std::vector<std::int64_t> sorted = samples;
  const LatencySummary summary = summarize_latencies(sorted);
  char line[256];
  std::snprintf(line, sizeof line, "%-31s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu)\n", what,
                summary.p50_ms, summary.p99_ms, summary.max_ms, summary.count);
  return line;
}

std::string error_kinds(const CycleErrors& errors) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%llu (transport %llu, HTTP status %llu, Error field %llu, malformed %llu, "
                "filter kept no node %llu)",
                static_cast<unsigned long long>(errors.total()),
                static_cast<unsigned long long>(errors.transport),
                static_cast<unsigned long long>(errors.http_status),
                static_cast<unsigned long long>(errors.error_field),
                static_cast<unsigned long long>(errors.malformed),
                static_cast<unsigned long long>(errors.none_kept));
  return line;
}

}  // namespace

CycleErrors& CycleErrors::operator+=(const CycleErrors& other) {
  transport += other.transport;
  http_status += other.http_status;
  error_field += other.error_field;
  malformed += other.malformed;
  none_kept += other.none_kept;
  if (first.empty()) {
    first = other.first;
  }
  return *this;
}

std::uint64_t PacedCyclesResult::requests() const {
  std::uint64_t sum = 0;
  for (const ConnectionStats& connection : connections) {
    sum += connection.requests;
  }
  return sum;
}

std::uint64_t PacedCyclesResult::cycles() const {
  std::uint64_t sum = 0;
  for (const ConnectionStats& connection : connections) {
    sum += connection.cycles;
  }
  return sum;
}

CycleErrors PacedCyclesResult::errors() const {
  CycleErrors sum;
  for (const ConnectionStats& connection : connections) {
    sum += connection.errors;
  }
  return sum;
}

double PacedCyclesResult::requests_per_second() const {
  return seconds > 0 ? static_cast<double>(requests()) / seconds : 0.0;
}

common::Result<PacedCyclesResult> run_paced_cycles(const PacedCyclesOptions& options,
                                                   std::string_view names_json,
                                                   std::size_t names_count,
                                                   const std::atomic<bool>* stop) {
  if (options.connections < 1) {
    return common::Error{"at least one connection"};
  }
  if (options.pods == 0 && options.duration.count() <= 0 && stop == nullptr) {
    return common::Error{"give a number of pods or a duration: the run would not end"};
  }
  const auto connections = static_cast<std::size_t>(options.connections);
  SharedRun shared{.options = options,
                   .names_json = names_json,
                   .names_count = names_count,
                   .stop = stop,
                   .warmed = std::latch(static_cast<std::ptrdiff_t>(connections))};
  std::vector<ConnectionRun> runs(connections);
  // Reserve what the run will need (within reason), so no thread grows a vector mid-run.
  const double expected_cycles = options.pods > 0 ? static_cast<double>(options.pods)
                                 : options.rate_per_s > 0
                                     ? options.rate_per_s / (options.prioritize ? 2.0 : 1.0) *
                                           std::chrono::duration<double>(options.duration).count()
                                     : 0.0;
  const std::size_t reserve =
      std::min(kMaxReserve,
               static_cast<std::size_t>(expected_cycles / static_cast<double>(connections)) + 16);
  for (ConnectionRun& run : runs) {
    run.filter_ns.reserve(reserve);
    run.prioritize_ns.reserve(reserve);
    run.lag_ns.reserve(reserve);
  }
  std::vector<std::thread> threads;
  threads.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) {
    threads.emplace_back(
        [&shared, &runs, i] { run_connection(shared, static_cast<int>(i), runs[i]); });
  }
  shared.warmed.wait();
  shared.start = Clock::now() + kStartMargin;
  shared.go.count_down();
  for (std::thread& thread : threads) {
    thread.join();
  }

  PacedCyclesResult result;
  result.names_sent = names_count;
  result.target_rate_per_s = options.rate_per_s;
  Clock::time_point end = shared.start;
  for (ConnectionRun& run : runs) {
    result.connections.push_back(run.stats);
    result.warmup_errors += run.warmup_errors;
    result.filter_ns.insert(result.filter_ns.end(), run.filter_ns.begin(), run.filter_ns.end());
    result.prioritize_ns.insert(result.prioritize_ns.end(), run.prioritize_ns.begin(),
                                run.prioritize_ns.end());
    result.lag_ns.insert(result.lag_ns.end(), run.lag_ns.begin(), run.lag_ns.end());
    result.nodes_kept += run.nodes_kept;
    end = std::max(end, run.finished);
  }
  result.seconds = std::chrono::duration<double>(end - shared.start).count();
  return result;
}

PacedCyclesOptions paced_cycles_options(const LoadOptions& options, std::string host,
                                        std::uint16_t port) {
  PacedCyclesOptions paced;
  paced.host = std::move(host);
  paced.port = port;
  paced.url_prefix = options.url_prefix;
  paced.prioritize = options.prioritize;
  paced.connections = options.connections;
  paced.rate_per_s = options.request_rate;
  paced.pods = options.pods_given ? options.pods : 0;
  paced.duration = std::chrono::milliseconds(std::max<std::int64_t>(options.duration_ms, 0));
  paced.warmup_pods = options.warmup_pods;
  paced.pod_epc_bytes = options.pod_epc_bytes;
  paced.run_tag = options.run_tag;
  paced.expect_fit = options.expect_fit;
  return paced;
}

std::string describe_paced_cycles(const PacedCyclesResult& result) {
  std::string text;
  char line[512];
  const std::uint64_t requests = result.requests();
  const std::uint64_t cycles = result.cycles();
  std::string target = "as fast as possible";
  if (result.target_rate_per_s > 0) {
    std::snprintf(line, sizeof line, "target %.0f/s: %.1f %%", result.target_rate_per_s,
                  100.0 * result.requests_per_second() / result.target_rate_per_s);
    target = line;
  }
  std::snprintf(line, sizeof line,
                "requests:  %llu in %.2f s = %.0f requests/s (%s), %llu cycles, %zu connections\n",
                static_cast<unsigned long long>(requests), result.seconds,
                result.requests_per_second(), target.c_str(),
                static_cast<unsigned long long>(cycles), result.connections.size());
  text += line;
  const CycleErrors errors = result.errors();
  text += "errors:    " + error_kinds(errors) + "\n";
  if (result.warmup_errors.total() > 0) {
    text += "           of which in the warm-up: " + error_kinds(result.warmup_errors) + "\n";
  }
  std::vector<std::int64_t> all = result.filter_ns;
  all.insert(all.end(), result.prioritize_ns.begin(), result.prioritize_ns.end());
  text += percentiles_line("latency per request:", all);
  text += percentiles_line("  filter (from its schedule):", result.filter_ns);
  text += percentiles_line("  prioritize:", result.prioritize_ns);
  text += percentiles_line("schedule lag per cycle:", result.lag_ns);
  std::snprintf(line, sizeof line, "nodes kept/filter: mean %.1f of %zu names\n",
                result.filter_ns.empty() ? 0.0
                                         : static_cast<double>(result.nodes_kept) /
                                               static_cast<double>(result.filter_ns.size()),
                result.names_sent);
  text += line;
  for (std::size_t i = 0; i < result.connections.size(); ++i) {
    const ConnectionStats& connection = result.connections[i];
    std::snprintf(line, sizeof line,
                  "connection %zu: %llu requests, %llu cycles, %llu TCP connects, %llu errors\n", i,
                  static_cast<unsigned long long>(connection.requests),
                  static_cast<unsigned long long>(connection.cycles),
                  static_cast<unsigned long long>(connection.connects),
                  static_cast<unsigned long long>(connection.errors.total()));
    text += line;
  }
  if (!errors.first.empty()) {
    text += "first error: " + errors.first + "\n";
  }
  return text;
}

}  // namespace epc::tools::load
