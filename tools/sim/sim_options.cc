#include "tools/sim/sim_options.h"

#include <charconv>
#include <limits>
#include <optional>

namespace epc::tools::sim {
namespace {

template <typename Int>
bool parse_int(std::string_view text, Int min, Int max, Int& out) {
  Int value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

// "42..51" or "1,5,9".
bool parse_seeds(std::string_view text, std::vector<std::uint64_t>& out) {
  constexpr std::uint64_t kMaxSeeds = 10'000;
  out.clear();
  const std::size_t dots = text.find("..");
  if (dots != std::string_view::npos) {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    if (!parse_int<std::uint64_t>(text.substr(0, dots), 0,
                                  std::numeric_limits<std::uint64_t>::max(), first) ||
        !parse_int<std::uint64_t>(text.substr(dots + 2), first, first + kMaxSeeds - 1, last)) {
      return false;
    }
    for (std::uint64_t seed = first; seed <= last; ++seed) {
      out.push_back(seed);
    }
    return true;
  }
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::uint64_t seed = 0;
    if (!parse_int<std::uint64_t>(text.substr(0, comma), 0,
                                  std::numeric_limits<std::uint64_t>::max(), seed) ||
        out.size() >= kMaxSeeds) {
      return false;
    }
    out.push_back(seed);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return !out.empty();
}

}  // namespace

std::string sim_usage() {
  return R"(Usage: epc-sim (--nodes NODES.csv --pods PODS.csv | --trace CLUSTER.yaml|.csv) [options]

Replays a workload against kube-scheduler's placement (its default profile's resource scores) with
and without the epc-extender, through the extender's own fit and scoring code, and reports EPC
packing quality. See docs/bin-packing.md for the method and docs/sim-input.md for the input forms.

Input:
  --nodes PATH        node list in the openb CSV form (sn,cpu_milli,memory_mib,...)
  --pods PATH         pod list in the openb CSV form (name,cpu_milli,memory_mib,...,creation_time,
                      deletion_time,...); EPC = memory/8 per node, memory/4 per pod
  --trace PATH        the generic form instead (CSV or YAML, see docs/sim-input.md)
  --mix M             the workload drawn from the pod list: as-listed (default), small-pods
                      (EPC at most 1/8 of the median node's), cpu-heavy (CPU-dominant pods
                      repeated until the mix asks for as large a share of CPU as of EPC) or
                      large-pods (EPC at least 1/4 of the median node's, repeated 3 times)
Protocols and strategies:
  --protocol P        fill, churn or both (default both)
  --strategies LIST   comma-separated strategy names or "all" (default): kube-default,
                      kube-most-allocated, LeastAllocated, MostAllocated, BestFit,
                      FragmentationAware, and each extender policy with /ideal
  --seeds S           "42..51" (default) or "1,2,3"
  --weight N          the extender's weight in kube-scheduler's config (default 5)
  --percentage-of-nodes-to-score N
                      kube-scheduler's setting, 0 = its adaptive default (default 100)
  --profile P         the profile the extender runs beside: default (NodeResourcesFit
                      LeastAllocated + BalancedAllocation), most-allocated (NodeResourcesFit
                      MostAllocated over cpu and memory + BalancedAllocation) or none (both
                      resource scores disabled); default: default
  --tie-break on|off  the extender singles out one of its top-scored nodes (default on)
  --top-k LIST        add the one-round-trip strategies for each k in LIST (e.g. 1,3,10):
                      <policy>/topK (the filter keeps the k best nodes, no prioritize verb) and
                      <policy>/topK+prioritize (the same filter, then prioritize at --weight)
  --churn-arrivals N  pods arriving in each churn run (default 50000)
  --arrivals N        what-if run: exactly N pods (1..10000000) of the mix arrive on the cluster
                      as given, its nodes' epc_used etc. included (docs/sim-input.md), and each is
                      placed or rejected; fill protocol only (with --protocol churn or both it is
                      an error), no offline reference; prints a What-if table
Output:
  --out DIR           write fill.csv, fill_curves.csv, fill_median.csv, churn.csv,
                      churn_samples.csv, churn_median.csv there
  --threads N         worker threads (default: one per hardware thread)
  --quiet             no progress bar
  --help              this text
The summary (Markdown tables of medians over seeds) goes to standard output.
)";
}

common::Result<SimOptions> parse_sim_options(const std::vector<std::string>& args) {
  SimOptions options;
  bool& protocol_given = options.protocol_given;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    if (flag == "--quiet") {
      options.quiet = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      return common::Error{"flag " + flag + " needs a value (see --help)"};
    }
    const std::string& value = args[++i];
    const auto bad = [&](std::string_view want) {
      return common::Error{"flag " + flag + ": \"" + value + "\" is not " + std::string(want)};
    };
    if (flag == "--nodes") {
      options.openb_nodes = value;
    } else if (flag == "--pods") {
      options.openb_pods = value;
    } else if (flag == "--trace") {
      options.trace = value;
    } else if (flag == "--mix") {
      const std::optional<MixKind> mix = mix_from_name(value);
      if (!mix) {
        return bad("a mix name (" + std::string(kMixNames) + ")");
      }
      options.mix = *mix;
    } else if (flag == "--out") {
      options.out_dir = value;
    } else if (flag == "--strategies") {
      options.strategies = value;
    } else if (flag == "--protocol") {
      if (value != "fill" && value != "churn" && value != "both") {
        return bad("fill, churn or both");
      }
      options.fill = value != "churn";
      options.churn = value != "fill";
      protocol_given = true;
    } else if (flag == "--seeds") {
      if (!parse_seeds(value, options.seeds)) {
        return bad("a seed range A..B or a list A,B,C (at most 10000 seeds)");
      }
    } else if (flag == "--weight") {
      if (!parse_int<std::int64_t>(value, 1, 1'000'000, options.deployment.extender_weight)) {
        return bad("a weight between 1 and 1000000");
      }
    } else if (flag == "--percentage-of-nodes-to-score") {
      if (!parse_int(value, 0, 100, options.deployment.percentage_of_nodes_to_score)) {
        return bad("a percentage between 0 and 100");
      }
    } else if (flag == "--profile") {
      if (value == "default") {
        options.deployment.extender_profile = KubeFitScoring::kLeastAllocated;
      } else if (value == "most-allocated") {
        options.deployment.extender_profile = KubeFitScoring::kMostAllocated;
      } else if (value == "none") {
        options.deployment.extender_profile = KubeFitScoring::kDisabled;
      } else {
        return bad("default, most-allocated or none");
      }
    } else if (flag == "--tie-break") {
      if (value != "on" && value != "off") {
        return bad("on or off");
      }
      options.deployment.extender_tie_break = value == "on";
    } else if (flag == "--top-k") {
      options.deployment.top_k.clear();
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::size_t k = 0;
        if (!parse_int(rest.substr(0, comma), std::size_t{1}, std::size_t{100000}, k)) {
          return bad("a list of k values between 1 and 100000, e.g. 1,3,10");
        }
        options.deployment.top_k.push_back(k);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (flag == "--churn-arrivals") {
      if (!parse_int<std::int64_t>(value, 100, 100'000'000, options.churn_arrivals)) {
        return bad("a count between 100 and 100000000");
      }
    } else if (flag == "--arrivals") {
      if (!parse_int<std::int64_t>(value, 1, kMaxWhatIfArrivals, options.arrivals)) {
        return bad("a count between 1 and " + std::to_string(kMaxWhatIfArrivals));
      }
    } else if (flag == "--threads") {
      if (!parse_int(value, 1U, 256U, options.threads)) {
        return bad("a thread count between 1 and 256");
      }
    } else {
      return common::Error{"unknown flag " + flag + " (see --help)"};
    }
  }
  if (options.help) {
    return options;
  }
  if (options.arrivals > 0) {
    // A what-if run has no departures: churn would answer another question, so it is not run
    // quietly beside it, and asking for both is a mistake worth saying.
    if (protocol_given && options.churn) {
      return common::Error{
          "--arrivals runs the fill protocol only; it cannot be combined with --protocol " +
          std::string(options.fill ? "both" : "churn") + " (drop --protocol or use fill)"};
    }
    options.fill = true;
    options.churn = false;
  }
  const bool openb = !options.openb_nodes.empty() || !options.openb_pods.empty();
  if (openb == !options.trace.empty()) {
    return common::Error{"give either --nodes and --pods (openb CSV) or --trace (see --help)"};
  }
  if (openb && (options.openb_nodes.empty() || options.openb_pods.empty())) {
    return common::Error{"--nodes and --pods go together"};
  }
  return options;
}

}  // namespace epc::tools::sim
