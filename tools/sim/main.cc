// epc-sim: the bin-packing simulator (docs/bin-packing.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/sim/derived_mix.h"
#include "tools/sim/generic_reader.h"
#include "tools/sim/openb_reader.h"
#include "tools/sim/progress_bar.h"
#include "tools/sim/report.h"
#include "tools/sim/sim_options.h"
#include "tools/sim/study.h"

namespace {

using epc::common::Error;
using epc::common::Result;
namespace sim = epc::tools::sim;

Result<sim::Trace> load_trace(const sim::SimOptions& options) {
  if (!options.trace.empty()) {
    return sim::read_generic_trace(options.trace);
  }
  const sim::OpenbMapping mapping{};
  Result<std::vector<sim::SimNode>> nodes = sim::read_openb_nodes(options.openb_nodes, mapping);
  if (!nodes) {
    return nodes.error();
  }
  Result<std::vector<sim::SimPod>> pods = sim::read_openb_pods(options.openb_pods, mapping);
  if (!pods) {
    return pods.error();
  }
  return sim::Trace{std::move(nodes).value(), std::move(pods).value()};
}

template <typename Writer>
Result<bool> write_file(const std::filesystem::path& path, const sim::StudyResults& results,
                        Writer writer) {
  std::ofstream out(path);
  writer(out, results);
  out.flush();
  if (!out) {
    return Error{"cannot write " + path.string()};
  }
  return true;
}

Result<bool> write_outputs(const std::string& dir, const sim::StudyResults& results) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Error{"cannot create " + dir + ": " + error.message()};
  }
  const std::filesystem::path base(dir);
  using WriterFn = void (*)(std::ostream&, const sim::StudyResults&);
  const std::vector<std::pair<const char*, WriterFn>> files = {
      {"fill.csv", &sim::write_fill_csv},
      {"fill_curves.csv", &sim::write_fill_curves_csv},
      {"fill_median.csv", &sim::write_fill_median_curves_csv},
      {"churn.csv", &sim::write_churn_csv},
      {"churn_samples.csv", &sim::write_churn_samples_csv},
      {"churn_median.csv", &sim::write_churn_median_curves_csv},
  };
  for (const auto& [name, writer] : files) {
    Result<bool> written = write_file(base / name, results, writer);
    if (!written) {
      return written;
    }
  }
  return true;
}

int run(const std::vector<std::string>& args) {
  Result<sim::SimOptions> parsed = sim::parse_sim_options(args);
  if (!parsed) {
    std::cerr << "epc-sim: " << parsed.error().message << '\n';
    return 2;
  }
  const sim::SimOptions& options = *parsed;
  if (options.help) {
    std::cout << sim::sim_usage();
    return 0;
  }
  Result<sim::Trace> trace = load_trace(options);
  if (!trace) {
    std::cerr << "epc-sim: " << trace.error().message << '\n';
    return 1;
  }
  if (options.mix != sim::MixKind::kAsListed) {
    Result<std::vector<sim::SimPod>> mix = sim::derive_mix(options.mix, trace->pods, trace->nodes);
    if (!mix) {
      std::cerr << "epc-sim: " << mix.error().message << '\n';
      return 1;
    }
    std::cerr << "epc-sim: mix " << sim::mix_name(options.mix) << ": " << mix->size()
              << " pods from " << trace->pods.size() << " listed\n";
    trace.value().pods = std::move(mix).value();
  }
  Result<std::vector<sim::Strategy>> strategies =
      sim::select_strategies(options.strategies, options.deployment);
  if (!strategies) {
    std::cerr << "epc-sim: " << strategies.error().message << '\n';
    return 2;
  }
  sim::StudyOptions study;
  study.strategies = *strategies;
  study.seeds = options.seeds;
  study.fill = options.fill;
  study.churn = options.churn;
  // Churn draws pods with a lifetime. A pod list without any (a trace of pending demand, a mix
  // written by hand) still answers the fill question: run that and say churn was skipped, unless
  // churn alone was asked for.
  std::string skipped;
  const bool lifetimes = std::any_of(trace->pods.begin(), trace->pods.end(),
                                     [](const sim::SimPod& pod) { return pod.lifetime_s >= 0; });
  if (study.churn && !lifetimes) {
    if (!study.fill) {
      std::cerr << "epc-sim: --protocol churn needs pod lifetimes, and no pod in the list has one "
                   "(give lifetimes, or run --protocol fill)\n";
      return 1;
    }
    study.churn = false;
    skipped =
        "Churn: skipped: no pod in the list has a lifetime (the churn protocol needs them); "
        "the fill protocol ran alone.\n\n";
    std::cerr << "epc-sim: no pod in the list has a lifetime: churn skipped, fill only\n";
  }
  study.churn_options.arrivals = options.churn_arrivals;
  study.fill_options.arrivals = options.arrivals;
  study.threads =
      options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  std::cerr << "epc-sim: " << trace->nodes.size() << " nodes, " << trace->pods.size()
            << " pods in the mix, " << study.strategies.size() << " strategies x "
            << study.seeds.size() << " seeds, " << study.threads << " threads";
  if (options.arrivals > 0) {
    std::cerr << ", what-if: " << options.arrivals << " arrivals";
  }
  std::cerr << '\n';

  // Drawn only on a terminal (ProgressBar checks), created once the number of runs is known.
  std::optional<sim::ProgressBar> bar;
  Result<sim::StudyResults> results =
      sim::run_study(*trace, study, [&](std::int64_t done, std::int64_t total) {
        if (options.quiet) {
          return;
        }
        if (!bar) {
          bar.emplace(stderr, "simulating", total, "runs");
        }
        bar->update(done);
      });
  if (bar) {
    bar->finish();
  }
  if (!results) {
    std::cerr << "epc-sim: " << results.error().message << '\n';
    return 1;
  }
  std::cout << skipped << sim::summarize(*results);
  if (!options.out_dir.empty()) {
    if (Result<bool> written = write_outputs(options.out_dir, *results); !written) {
      std::cerr << "epc-sim: " << written.error().message << '\n';
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(args);
}
