#include "tools/sim/study.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace epc::tools::sim {
namespace {

enum class JobKind : std::uint8_t { kFill, kBestOffline, kPackingBound, kChurn };

struct Job {
  JobKind kind;
  std::size_t strategy = 0;  // index into options.strategies (unused for the reference, bound)
  std::uint64_t seed = 0;
  std::size_t slot = 0;  // index into the fill, bounds or churn results
};

}  // namespace

common::Result<StudyResults> run_study(const Trace& trace, const StudyOptions& options,
                                       const StudyProgressFn& progress) {
  if (trace.nodes.empty() || trace.pods.empty()) {
    return common::Error{"the trace needs at least one node and one pod"};
  }
  StudyResults results;
  std::vector<Job> jobs;
  if (options.fill) {
    for (std::size_t s = 0; s < options.strategies.size(); ++s) {
      for (const std::uint64_t seed : options.seeds) {
        jobs.push_back({JobKind::kFill, s, seed, results.fill.size()});
        results.fill.push_back({options.strategies[s].name, seed, {}});
      }
    }
    results.what_if_arrivals =
        options.fill_options.arrivals > 0 ? options.fill_options.arrivals : 0;
    if (options.best_offline && results.what_if_arrivals == 0) {
      for (const std::uint64_t seed : options.seeds) {
        jobs.push_back({JobKind::kBestOffline, 0, seed, results.fill.size()});
        results.fill.push_back({std::string(kBestOfflineName), seed, {}});
      }
    }
    if (options.packing_bound && results.what_if_arrivals == 0) {
      for (const std::uint64_t seed : options.seeds) {
        jobs.push_back({JobKind::kPackingBound, 0, seed, results.bounds.size()});
        results.bounds.push_back({seed, {}});
      }
    }
  }
  if (options.churn) {
    for (std::size_t s = 0; s < options.strategies.size(); ++s) {
      for (const std::uint64_t seed : options.seeds) {
        jobs.push_back({JobKind::kChurn, s, seed, results.churn.size()});
        results.churn.push_back({options.strategies[s].name, seed, {}});
      }
    }
  }

  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::int64_t done = 0;
  std::optional<common::Error> failure;
  const auto worker = [&] {
    for (std::size_t j = next++; j < jobs.size(); j = next++) {
      const Job& job = jobs[j];
      switch (job.kind) {
        case JobKind::kFill:
          results.fill[job.slot].result =
              run_fill(trace, options.strategies[job.strategy], job.seed, options.fill_options);
          break;
        case JobKind::kBestOffline:
          results.fill[job.slot].result = run_best_offline(trace, job.seed, options.offline_orders);
          break;
        case JobKind::kPackingBound: {
          common::Result<PackingBound> bound = bound_packing_at_full(trace, job.seed);
          if (bound) {
            results.bounds[job.slot].bound = std::move(bound).value();
          } else {
            const std::lock_guard lock(mutex);
            failure = bound.error();
          }
          break;
        }
        case JobKind::kChurn: {
          common::Result<ChurnResult> churn =
              run_churn(trace, options.strategies[job.strategy], job.seed, options.churn_options);
          if (churn) {
            results.churn[job.slot].result = std::move(churn).value();
          } else {
            const std::lock_guard lock(mutex);
            failure = churn.error();
          }
          break;
        }
      }
      const std::lock_guard lock(mutex);
      ++done;
      if (progress) {
        progress(done, static_cast<std::int64_t>(jobs.size()));
      }
    }
  };
  const unsigned thread_count =
      std::max(1U, std::min<unsigned>(options.threads, static_cast<unsigned>(jobs.size())));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < thread_count; ++t) {
    threads.emplace_back(worker);
  }
  worker();
  for (std::thread& thread : threads) {
    thread.join();
  }
  if (failure) {
    return *failure;
  }
  return results;
}

}  // namespace epc::tools::sim
