#include "tools/load/ingest_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/byte_format.h"
#include "tools/load/cycle_batch.h"
#include "tools/load/loopback_extender.h"
#include "tools/load/report_feeder.h"
#include "tools/load/scheduler_client.h"
#include "tools/load/scheduler_request.h"
#include "tools/load/scheduling_cycle.h"

namespace epc::tools::load {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kWarmupCycles = 20;

// One measured phase: the cycles run in it, the feed beside them, the extender's CPU.
struct PhaseResult {
  std::string name;
  std::optional<CycleBatch> cycles;
  std::optional<FeedStats> feed;
  double wall_seconds = 0;
  double extender_cpu_seconds = 0;
};

std::string format(const char* pattern, double a) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, a);
  return text;
}

// Everything the run owns, torn down in reverse on every exit path.
class IngestRun {
 public:
  IngestRun(const LoadOptions& options, std::ostream& out, std::ostream& log)
      : options_(options), out_(out), log_(log) {}

  ~IngestRun() {
    if (feeder_) {
      (void)feeder_->close();
    }
  }

  common::Result<bool> run() {
    if (auto ok = start_extender(); !ok.ok()) {
      return ok;
    }
    if (auto ok = register_nodes(); !ok.ok()) {
      return ok;
    }
    client_.emplace("127.0.0.1", extender_->process().http_port());
    cycle_.emplace(*client_, "/sgx", /*prioritize=*/true);
    for (int i = 0; i < options_.nodes; ++i) {
      names_.push_back(load_node_name(options_.node_prefix, i));
    }
    names_json_ = node_names_json(names_);

    CycleBatchOptions warmup = batch_options();
    warmup.pods = kWarmupCycles;
    if (auto warm = run_cycle_batch(*cycle_, names_json_, names_.size(), warmup); !warm.ok()) {
      return common::Error{"warm-up cycles: " + warm.error().message};
    } else {
      next_pod_ = warm->next_pod_index;
    }

    // Row 0 is quiet, then one row per loaded rate; each round adds one slice to every row.
    std::vector<double> rates{0};
    rates.insert(rates.end(), options_.loaded_rates.begin(), options_.loaded_rates.end());
    std::vector<PhaseResult> phases(rates.size());
    for (int round = 0; round < options_.rounds; ++round) {
      for (std::size_t row = 0; row < rates.size(); ++row) {
        const std::string name =
            rates[row] == 0 ? "quiet (no reports)" : format("%.0f heartbeats/s", rates[row]);
        auto slice = cycles_phase(name, rates[row]);
        if (!slice.ok()) {
          return slice.error();
        }
        add_slice(phases[row], std::move(slice).value());
      }
    }
    auto ingest = max_rate_phase();
    if (!ingest.ok()) {
      return ingest.error();
    }
    print_table(phases, *ingest);
    return true;
  }

 private:
  CycleBatchOptions batch_options() const {
    CycleBatchOptions batch;
    batch.pod_epc_bytes = options_.pod_epc_bytes;
    batch.run_tag = options_.run_tag;
    batch.first_pod_index = next_pod_;
    return batch;
  }

  common::Result<bool> start_extender() {
    auto started = LoopbackExtender::start(options_, log_);
    if (!started.ok()) {
      return started.error();
    }
    extender_ = std::move(started).value();
    return true;
  }

  common::Result<bool> register_nodes() {
    auto feeder = ReportFeeder::create(feeder_options_for(
        options_, "127.0.0.1:" + std::to_string(extender_->process().grpc_port())));
    if (!feeder.ok()) {
      return feeder.error();
    }
    feeder_ = std::move(feeder).value();
    auto registered = feeder_->register_nodes();
    if (!registered.ok()) {
      return common::Error{"registering nodes: " + registered.error().message};
    }
    if (registered->refused > 0) {
      return common::Error{"the extender refused " + std::to_string(registered->refused) +
                           " snapshots, e.g.: " + registered->first_refusal};
    }
    log_ << "epc-load: registered " << registered->snapshots << " nodes in "
         << format("%.2f", registered->seconds) << " s ("
         << format("%.0f", registered->messages_per_second()) << " snapshots/s)" << std::endl;
    return true;
  }

  common::Result<double> cpu() const { return extender_->process().cpu_seconds(); }

  // Cycles for phase_ms, with heartbeats at `rate` on a second thread when rate > 0.
  common::Result<PhaseResult> cycles_phase(std::string name, double rate) {
    log_ << "epc-load: phase " << name << " (" << options_.phase_ms << " ms)" << std::endl;
    PhaseResult phase;
    phase.name = std::move(name);
    std::atomic<bool> stop{false};
    std::optional<common::Result<FeedStats>> feed_result;
    std::thread feeder_thread;
    auto cpu_before = cpu();
    if (!cpu_before.ok()) {
      return cpu_before.error();
    }
    const Clock::time_point start = Clock::now();
    if (rate > 0) {
      FeedPlan plan;
      plan.rate_per_s = rate;
      plan.duration = std::chrono::milliseconds(options_.phase_ms) + std::chrono::seconds(60);
      plan.change_every = options_.changes_every;
      feeder_thread = std::thread([&, plan] { feed_result.emplace(feeder_->feed(plan, &stop)); });
    }
    CycleBatchOptions batch = batch_options();
    batch.duration = std::chrono::milliseconds(options_.phase_ms);
    auto cycles = run_cycle_batch(*cycle_, names_json_, names_.size(), batch);
    stop.store(true);
    if (feeder_thread.joinable()) {
      feeder_thread.join();
    }
    phase.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    auto cpu_after = cpu();
    if (!cpu_after.ok()) {
      return cpu_after.error();
    }
    phase.extender_cpu_seconds = *cpu_after - *cpu_before;
    if (!cycles.ok()) {
      return common::Error{"phase " + phase.name + ": " + cycles.error().message};
    }
    next_pod_ = cycles->next_pod_index;
    phase.cycles = std::move(cycles).value();
    if (feed_result) {
      if (!feed_result->ok()) {
        return common::Error{"phase " + phase.name + ": feed: " + feed_result->error().message};
      }
      phase.feed = feed_result->value();
    }
    return phase;
  }

  // Sums one slice of a phase into its row.
  static void add_slice(PhaseResult& row, PhaseResult slice) {
    row.name = std::move(slice.name);
    row.wall_seconds += slice.wall_seconds;
    row.extender_cpu_seconds += slice.extender_cpu_seconds;
    if (!row.cycles) {
      row.cycles = std::move(slice.cycles);
    } else if (slice.cycles) {
      CycleBatch& sum = *row.cycles;
      const CycleBatch& add = *slice.cycles;
      sum.latencies_ns.insert(sum.latencies_ns.end(), add.latencies_ns.begin(),
                              add.latencies_ns.end());
      sum.wire += add.wire;
      sum.pods += add.pods;
      sum.prioritized += add.prioritized;
      sum.nodes_kept += add.nodes_kept;
      sum.nodes_kept_min = std::min(sum.nodes_kept_min, add.nodes_kept_min);
      sum.nodes_kept_max = std::max(sum.nodes_kept_max, add.nodes_kept_max);
      sum.seconds += add.seconds;
      sum.next_pod_index = add.next_pod_index;
    }
    if (!row.feed) {
      row.feed = std::move(slice.feed);
    } else if (slice.feed) {
      *row.feed += *slice.feed;
    }
  }

  common::Result<PhaseResult> max_rate_phase() {
    log_ << "epc-load: phase max-rate ingest (" << options_.max_rate_ms << " ms)" << std::endl;
    PhaseResult phase;
    phase.name = "max-rate ingest";
    auto cpu_before = cpu();
    if (!cpu_before.ok()) {
      return cpu_before.error();
    }
    const Clock::time_point start = Clock::now();
    FeedPlan plan;
    plan.rate_per_s = 0;
    plan.duration = std::chrono::milliseconds(options_.max_rate_ms);
    plan.change_every = options_.changes_every;
    auto fed = feeder_->feed(plan);
    phase.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    auto cpu_after = cpu();
    if (!cpu_after.ok()) {
      return cpu_after.error();
    }
    if (!fed.ok()) {
      return common::Error{"max-rate ingest: " + fed.error().message};
    }
    phase.extender_cpu_seconds = *cpu_after - *cpu_before;
    phase.feed = fed.value();
    return phase;
  }

  void print_table(std::vector<PhaseResult>& phases, const PhaseResult& ingest) {
    char line[512];
    out_ << "\nepc-load ingest: " << options_.nodes << " nodes on one NodeReports stream (window "
         << options_.window << "), filter+prioritize cycles at " << options_.nodes << " names, pod "
         << options_.pod_epc_bytes / (1024 * 1024)
         << "Mi EPC, back to back on one keep-alive connection; " << options_.rounds
         << " round(s) of " << options_.phase_ms << " ms per row, in turn\n\n";
    std::snprintf(line, sizeof line, "| %-22s | %7s | %8s | %8s | %8s | %10s | %14s | %9s |\n",
                  "phase", "cycles", "p50 ms", "p99 ms", "max ms", "nodes kept", "reports/s",
                  "ext. CPU");
    out_ << line;
    out_ << "|------------------------|--------:|---------:|---------:|---------:|-----------:|"
            "---------------:|----------:|\n";
    for (PhaseResult& phase : phases) {
      std::vector<std::int64_t> sorted = phase.cycles->latencies_ns;
      const LatencySummary latency = summarize_latencies(sorted);
      const double kept = phase.cycles->pods == 0 ? 0.0
                                                  : static_cast<double>(phase.cycles->nodes_kept) /
                                                        static_cast<double>(phase.cycles->pods);
      const std::string reports =
          phase.feed ? format("%.0f", phase.feed->messages_per_second()) : std::string("0");
      std::snprintf(line, sizeof line,
                    "| %-22s | %7zu | %8.3f | %8.3f | %8.3f | %10.0f | %14s | %9s |\n",
                    phase.name.c_str(), phase.cycles->pods, latency.p50_ms, latency.p99_ms,
                    latency.max_ms, kept, reports.c_str(),
                    format("%.2f", phase.extender_cpu_seconds / phase.wall_seconds).c_str());
      out_ << line;
    }
    const FeedStats& feed = *ingest.feed;
    const double per_core = ingest.extender_cpu_seconds > 0
                                ? static_cast<double>(feed.sent()) / ingest.extender_cpu_seconds
                                : 0.0;
    std::snprintf(line, sizeof line,
                  "\nmax-rate ingest: %llu reports (%llu heartbeats, %llu changes) in %.2f s = "
                  "%.0f reports/s; %llu refused\n"
                  "  extender CPU %.2f s over the phase (%.2f cores) -> %.0f reports/s per core\n",
                  static_cast<unsigned long long>(feed.sent()),
                  static_cast<unsigned long long>(feed.heartbeats),
                  static_cast<unsigned long long>(feed.changes), feed.seconds,
                  feed.messages_per_second(), static_cast<unsigned long long>(feed.refused),
                  ingest.extender_cpu_seconds, ingest.extender_cpu_seconds / ingest.wall_seconds,
                  per_core);
    out_ << line;
    out_ << "\n\"ext. CPU\" is the extender's utime+stime over the phase divided by its wall time."
            " The load\ndriver (this process: HTTP client, gRPC feeder) runs on the same machine"
            " and competes for\nits cores.\n";
    for (const PhaseResult& phase : phases) {
      if (phase.feed && (phase.feed->refused > 0 || phase.feed->unexpected_sequence > 0)) {
        out_ << "warning: phase " << phase.name << ": " << phase.feed->refused
             << " reports refused (" << phase.feed->first_refusal << "), "
             << phase.feed->unexpected_sequence << " Acks with another sequence\n";
      }
    }
    out_.flush();
  }

  const LoadOptions& options_;
  std::ostream& out_;
  std::ostream& log_;
  std::unique_ptr<LoopbackExtender> extender_;  // stopped after the feeder closes
  std::unique_ptr<ReportFeeder> feeder_;
  std::optional<SchedulerClient> client_;
  std::optional<SchedulingCycle> cycle_;
  std::vector<std::string> names_;
  std::string names_json_;
  std::uint64_t next_pod_ = 0;
};

}  // namespace

common::Result<bool> run_ingest(const LoadOptions& options, std::ostream& out, std::ostream& log) {
  IngestRun run(options, out, log);
  return run.run();
}

}  // namespace epc::tools::load
