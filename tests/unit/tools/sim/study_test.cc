// A short simulation in the normal suite: a self-written cluster of a few dozen nodes and a few
// hundred pods per run, every strategy and both protocols through run_study, as epc-sim runs them.
#include "tools/sim/study.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/tools/sim/sim_fixtures.h"
#include "tools/sim/report.h"

namespace epc::tools::sim {
namespace {

using common::Result;

using testing_support::node;
using testing_support::pod;

Trace small_cluster() {
  Trace trace;
  for (int i = 0; i < 10; ++i) {
    trace.nodes.push_back(node("a" + std::to_string(i), 32, 128, 16));
    trace.nodes.push_back(node("b" + std::to_string(i), 64, 384, 48));
  }
  trace.pods = {pod(2, 8, 2, 60),    pod(4, 16, 4, 600),  pod(8, 32, 8, 300),
                pod(12, 48, 12, 90), pod(6, 24, 6, 1800), pod(16, 64, 16, 120)};
  return trace;
}

StudyOptions options(unsigned threads) {
  StudyOptions o;
  Result<std::vector<Strategy>> all =
      select_strategies("all", Deployment{.percentage_of_nodes_to_score = 0});
  EXPECT_TRUE(all.ok());
  o.strategies = *all;
  o.seeds = {42, 43};
  o.churn_options.arrivals = 400;
  o.churn_options.sample_every = 20;
  o.threads = threads;
  return o;
}

TEST(Study, RunsEveryStrategyOnBothProtocols) {
  Result<StudyResults> results = run_study(small_cluster(), options(2));
  ASSERT_TRUE(results.ok());
  // 10 strategies × 2 seeds, plus best-fit-decreasing × 2 seeds.
  EXPECT_EQ(results->fill.size(), 22U);
  EXPECT_EQ(results->churn.size(), 20U);
  for (const FillRun& run : results->fill) {
    EXPECT_EQ(run.result.placed_pods + run.result.rejected_pods, run.result.arrived_pods)
        << run.strategy;
    EXPECT_TRUE(run.result.stayed_within_capacity) << run.strategy;
  }
  const std::string summary = summarize(*results);
  for (const char* name : {"kube-default", "FragmentationAware/ideal", "best-fit-decreasing"}) {
    EXPECT_NE(summary.find(std::string("| ") + name + " |"), std::string::npos) << name;
  }
}

TEST(Study, ResultsDoNotDependOnThreads) {
  Result<StudyResults> one = run_study(small_cluster(), options(1));
  Result<StudyResults> two = run_study(small_cluster(), options(2));
  ASSERT_TRUE(one.ok() && two.ok());
  std::ostringstream a;
  std::ostringstream b;
  write_fill_csv(a, *one);
  write_churn_csv(a, *one);
  write_fill_csv(b, *two);
  write_churn_csv(b, *two);
  EXPECT_EQ(a.str(), b.str());
}

TEST(Study, EmptyTraceIsAnError) {
  Trace empty;
  EXPECT_FALSE(run_study(empty, options(1)).ok());
}

}  // namespace
}  // namespace epc::tools::sim
