#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/sim/derived_mix.h"
#include "tools/sim/strategy.h"
#include "tools/sim/study.h"

namespace epc::tools::sim {

// The extender weight the study recommends (docs/bin-packing.md, "Weight"): on openb it left the
// least EPC unallocated in fill and rejected among the fewest pods in churn.
inline constexpr std::int64_t kRecommendedExtenderWeight = 5;

// epc-sim's command line.
struct SimOptions {
  std::string openb_nodes;           // openb node list CSV
  std::string openb_pods;            // openb pod list CSV
  std::string trace;                 // generic CSV/YAML (instead of the two above)
  MixKind mix = MixKind::kAsListed;  // --mix: the pod list as given or a mix built from it
  std::string out_dir;               // where the CSV files go; empty = none
  std::string strategies = "all";
  std::vector<std::uint64_t> seeds{42, 43, 44, 45, 46, 47, 48, 49, 50, 51};
  bool fill = true;
  bool churn = true;
  bool protocol_given = false;  // --protocol was on the command line (not the default "both")
  Deployment deployment{.extender_weight = kRecommendedExtenderWeight};
  std::int64_t churn_arrivals = 50'000;
  // > 0: the what-if run (--arrivals): exactly this many pods arrive, fill protocol only.
  std::int64_t arrivals = 0;
  unsigned threads = 0;  // 0 = one per hardware thread
  bool quiet = false;
  bool help = false;
};

// Parses argv (argv[0] excluded). Errors name the offending flag.
common::Result<SimOptions> parse_sim_options(const std::vector<std::string>& args);

// --help text.
std::string sim_usage();

}  // namespace epc::tools::sim
