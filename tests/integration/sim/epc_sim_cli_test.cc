// epc-sim as a user runs it: the real binary on a small generic trace.
#include <chrono>
#include <filesystem>
#include <fstream>
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
  EXPECT_NE(run.output.find("| best-fit-decreasing |"), std::string::npos);
  EXPECT_EQ(run.output.find("| NO |"), std::string::npos) << "a run went over capacity";
  for (const char* file : {"fill.csv", "fill_curves.csv", "fill_median.csv", "churn.csv",
                           "churn_samples.csv", "churn_median.csv"}) {
    const std::string text = read_file(std::filesystem::path(dir) / "out" / file);
    EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 3) << file;
  }
  // fill.csv: one row per strategy and seed (10 strategies + the offline reference, 3 seeds).
  const std::string fill = read_file(std::filesystem::path(dir) / "out" / "fill.csv");
  EXPECT_EQ(std::count(fill.begin(), fill.end(), '\n'), 1 + 11 * 3);
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
  EXPECT_EQ(first.output, second.output);
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
