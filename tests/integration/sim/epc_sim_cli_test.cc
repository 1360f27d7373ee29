// epc-sim as a user runs it: the real binary on a small generic trace.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/child_process.h"

namespace epc::test {
namespace {

using std::chrono::seconds;

struct SimRun {
  int status = -1;
  std::string output;
};

SimRun run_sim(const std::vector<std::string>& args, const std::string& dir) {
  std::vector<std::string> argv{EPC_SIM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  common::Result<ChildProcess> child = ChildProcess::spawn(argv, dir + "/output.txt");
  EXPECT_TRUE(child.ok());
  if (!child.ok()) {
    return {};
  }
  ChildProcess process = std::move(child).value();
  common::Result<int> status = process.wait(seconds(120));
  EXPECT_TRUE(status.ok());
  return SimRun{status.ok() ? *status : -1, process.output()};
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kTrace = std::string(EPC_TEST_DATA_DIR) + "/sim/small_cluster.yaml";

TEST(EpcSimCli, RunsTheStudyAndWritesItsFiles) {
  const std::string dir = make_temp_dir();
  const SimRun run = run_sim({"--trace", kTrace, "--seeds", "1..3", "--churn-arrivals", "500",
                              "--threads", "2", "--out", dir + "/out", "--quiet"},
                             dir);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("Fill (median over 3 seeds;"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Churn (median over 3 seeds, after warm-up;"), std::string::npos);
  EXPECT_NE(run.output.find("| BestFit |"), std::string::npos);
  EXPECT_NE(run.output.find("| best-offline |"), std::string::npos);
  EXPECT_NE(run.output.find("| limit (LP bound) |"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\nLP bound: "), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("| NO |"), std::string::npos) << "a run went over capacity";
  for (const char* file : {"fill.csv", "fill_curves.csv", "fill_median.csv", "churn.csv",
                           "churn_samples.csv", "churn_median.csv"}) {
    const std::string text = read_file(std::filesystem::path(dir) / "out" / file);
    EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 3) << file;
  }
  // fill.csv: one row per strategy and seed (every strategy, the offline reference and the LP
  // bound; 3 seeds).
  const std::string fill = read_file(std::filesystem::path(dir) / "out" / "fill.csv");
  std::map<std::string, int> rows_per_strategy;
  std::istringstream lines(fill);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    ++rows_per_strategy[line.substr(0, line.find(','))];
  }
  EXPECT_GE(rows_per_strategy.size(), 12U);
  for (const auto& [strategy, rows] : rows_per_strategy) {
    EXPECT_EQ(rows, 3) << strategy;
  }
  EXPECT_EQ(rows_per_strategy.count("best-offline"), 1U);
  EXPECT_EQ(rows_per_strategy.count("lp-bound"), 1U);
  EXPECT_EQ(fill.rfind("strategy,seed,arrived_pods,placed_pods,rejected_pods,", 0), 0U);
}

TEST(EpcSimCli, SameSeedSameNumbers) {
  const std::string dir = make_temp_dir();
  const std::vector<std::string> args{
      "--trace",    kTrace, "--seeds",      "7",
      "--protocol", "fill", "--strategies", "BestFit,FragmentationAware",
      "--quiet"};
  const SimRun first = run_sim(args, dir);
  const SimRun second = run_sim(args, dir);
  ASSERT_EQ(first.status, 0) << first.output;
  // Everything but the LP's solve time, a wall-clock measure.
  const auto without_solve_time = [](std::string output) {
    const std::size_t line = output.find("\nLP bound: ");
    if (line != std::string::npos) {
      output.erase(line, output.find('\n', line + 1) - line);
    }
    return output;
  };
  EXPECT_NE(first.output.find("\nLP bound: "), std::string::npos) << first.output;
  EXPECT_EQ(without_solve_time(first.output), without_solve_time(second.output));
}

// tests/data/sim/what_if_cluster.yaml, by hand: one pod shape of 2 GiB (1 CPU, 4 GiB memory).
//   busy × 4:    16 − 12 GiB held = 4 GiB free: 2 pods each        →  8
//   fresh × 2:   32 GiB free: 16 pods each (16 CPUs, 64 GiB memory) → 32
//   slots-full:  every enclave slot held: none; pods-full: its pod limit reached: none
// So any strategy places 40 of 50 pods and rejects 10 (20 GiB). EPC: 4·16 + 2·32 + 16 + 16 = 160
// GiB, held 4·12 + 4 = 52, free 108; after the arrivals 108 − 40·2 = 28 GiB stay free (16 on
// slots-full, 12 on pods-full), which no pod can use.
const std::string kWhatIfTrace = std::string(EPC_TEST_DATA_DIR) + "/sim/what_if_cluster.yaml";

TEST(EpcSimCli, WhatIfOnAPartlyUsedCluster) {
  const std::string dir = make_temp_dir();
  const SimRun run =
      run_sim({"--trace", kWhatIfTrace, "--arrivals", "50", "--seeds", "1,2", "--strategies",
               "BestFit,kube-default", "--out", dir + "/out", "--quiet"},
              dir);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("What-if: 50 pods arrive, no departures (median over 2 seeds;"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("Cluster EPC: 160.00 GiB; held by pods already there: 52.00 GiB; "
                            "free before the arrivals: 108.00 GiB"),
            std::string::npos)
      << run.output;
  for (const char* strategy : {"BestFit", "kube-default"}) {
    EXPECT_NE(run.output.find(std::string("| ") + strategy +
                              " | 40 (40–40) | 10 (10–10) | 20.00 GiB (20.00–20.00) | "
                              "28.00 GiB (28.00–28.00) | yes |"),
              std::string::npos)
        << strategy << "\n"
        << run.output;
  }
  // Fill protocol only, and without the offline reference or the LP bound.
  EXPECT_EQ(run.output.find("Fill ("), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("Churn ("), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("best-offline"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("LP bound"), std::string::npos) << run.output;
  // fill.csv: a header and one row per strategy and seed; churn.csv: its header only.
  const std::string fill = read_file(std::filesystem::path(dir) / "out" / "fill.csv");
  EXPECT_EQ(std::count(fill.begin(), fill.end(), '\n'), 1 + 2 * 2) << fill;
  EXPECT_NE(fill.find("\nBestFit,1,50,40,10,"), std::string::npos) << fill;
  EXPECT_NE(fill.find(",20.000,52.000,28.000\n"), std::string::npos) << fill;
  const std::string churn = read_file(std::filesystem::path(dir) / "out" / "churn.csv");
  EXPECT_EQ(std::count(churn.begin(), churn.end(), '\n'), 1) << churn;
}

TEST(EpcSimCli, WhatIfErrors) {
  const std::string dir = make_temp_dir();
  const SimRun zero = run_sim({"--trace", kWhatIfTrace, "--arrivals", "0"}, dir);
  EXPECT_EQ(zero.status, 2);
  EXPECT_NE(zero.output.find("epc-sim: flag --arrivals: \"0\" is not a count between 1 and "
                             "10000000"),
            std::string::npos)
      << zero.output;
  const SimRun churn =
      run_sim({"--trace", kWhatIfTrace, "--arrivals", "10", "--protocol", "churn"}, dir);
  EXPECT_EQ(churn.status, 2);
  EXPECT_NE(churn.output.find("epc-sim: --arrivals runs the fill protocol only; it cannot be "
                              "combined with --protocol churn"),
            std::string::npos)
      << churn.output;
  // A node that holds more than it has is the input's error (status 1), named with its line.
  const std::string bad = dir + "/overfull.yaml";
  std::ofstream(bad) << "nodes:\n"
                        "  - {name: n, cpu: 1, memory: 1Gi, epc: 16Gi, epc_used: 20Gi}\n"
                        "pods:\n"
                        "  - {name: p, cpu: 1, memory: 1Gi, epc: 1Gi}\n";
  const SimRun overfull = run_sim({"--trace", bad, "--arrivals", "10"}, dir);
  EXPECT_EQ(overfull.status, 1);
  EXPECT_NE(overfull.output.find(bad + ":2:57: node \"n\": epc_used: \"20Gi\" is more than the "
                                       "node's epc (16Gi)"),
            std::string::npos)
      << overfull.output;
}

// A pod list without lifetimes still answers the fill question; churn alone cannot run on it.
TEST(EpcSimCli, PodsWithoutLifetimesRunFillAndSayChurnWasSkipped) {
  const std::string dir = make_temp_dir();
  const std::string trace = dir + "/no_lifetimes.yaml";
  std::ofstream(trace) << "nodes:\n  - {name: n, count: 3, cpu: \"16\", memory: 64Gi, epc: 8Gi}\n"
                          "pods:\n  - {name: p, cpu: \"1\", memory: 1Gi, epc: 1Gi}\n";
  const SimRun both = run_sim({"--trace", trace, "--seeds", "1,2", "--strategies", "BestFit",
                               "--quiet", "--out", dir + "/out"},
                              dir);
  ASSERT_EQ(both.status, 0) << both.output;
  EXPECT_NE(both.output.find("churn skipped, fill only"), std::string::npos) << both.output;
  EXPECT_NE(both.output.find("Churn: skipped: no pod in the list has a lifetime"),
            std::string::npos);
  EXPECT_NE(both.output.find("Fill (median over 2 seeds;"), std::string::npos) << both.output;
  EXPECT_EQ(both.output.find("Churn (median"), std::string::npos) << both.output;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / "out" / "fill.csv"));

  const SimRun churn = run_sim({"--trace", trace, "--protocol", "churn", "--quiet"}, dir);
  EXPECT_EQ(churn.status, 1) << churn.output;
  EXPECT_NE(churn.output.find("--protocol churn needs pod lifetimes"), std::string::npos)
      << churn.output;
}

TEST(EpcSimCli, BadInputGetsAClearErrorAndAStatus) {
  const std::string dir = make_temp_dir();
  const SimRun flag = run_sim({"--trace", kTrace, "--weight", "zero"}, dir);
  EXPECT_EQ(flag.status, 2);
  EXPECT_NE(flag.output.find("epc-sim: flag --weight: \"zero\" is not a weight"), std::string::npos)
      << flag.output;
  const SimRun missing = run_sim({"--trace", dir + "/absent.yaml"}, dir);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("absent.yaml"), std::string::npos) << missing.output;
  const SimRun help = run_sim({"--help"}, dir);
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("Usage: epc-sim"), std::string::npos);
}

}  // namespace
}  // namespace epc::test
