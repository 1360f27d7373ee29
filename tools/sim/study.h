#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/sim/churn_protocol.h"
#include "tools/sim/fill_protocol.h"
#include "tools/sim/packing_bound.h"
#include "tools/sim/strategy.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// The name the offline reference (run_best_offline) runs under in results.
inline constexpr std::string_view kBestOfflineName = "best-offline";
// The name the LP bound (packing_bound.h) is written under in fill.csv.
inline constexpr std::string_view kPackingBoundName = "lp-bound";

struct StudyOptions {
  std::vector<Strategy> strategies;
  std::vector<std::uint64_t> seeds;
  bool fill = true;
  bool churn = true;
  // The offline reference and the LP bound, fill protocol only. Never in a what-if run
  // (fill_options.arrivals > 0): both pack 100% of the free EPC at once, which answers no
  // question about N arrivals.
  bool best_offline = true;
  int offline_orders = kDefaultOfflineOrders;
  bool packing_bound = true;
  FillOptions fill_options;
  ChurnOptions churn_options;
  unsigned threads = 1;
};

struct FillRun {
  std::string strategy;
  std::uint64_t seed = 0;
  FillResult result;
};

struct BoundRun {
  std::uint64_t seed = 0;
  PackingBound bound;
};

struct ChurnRun {
  std::string strategy;
  std::uint64_t seed = 0;
  ChurnResult result;
};

struct StudyResults {
  std::vector<FillRun> fill;          // strategy-major, seeds in the given order
  std::vector<BoundRun> bounds;       // the LP bound per seed, same seed order (fill only)
  std::vector<ChurnRun> churn;        // same order
  std::int64_t what_if_arrivals = 0;  // > 0: the fill runs are what-if runs of this many pods
};

// Called with (runs finished, runs in all) as runs finish, from the calling thread's lock.
using StudyProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

// Every (strategy, seed) run of the chosen protocols, and per seed the offline reference and the
// LP bound (fill, not what-if), spread over `threads` worker threads. Runs
// are independent (each has its own cluster and generators), so results do not depend on the
// thread count.
common::Result<StudyResults> run_study(const Trace& trace, const StudyOptions& options,
                                       const StudyProgressFn& progress = {});

}  // namespace epc::tools::sim
