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
  const StudyOptions o = options(2);
  Result<StudyResults> results = run_study(small_cluster(), o);
  ASSERT_TRUE(results.ok());
  // Every strategy × 2 seeds, plus best-offline × 2 seeds; the LP bound once per seed.
  const std::size_t strategies = o.strategies.size();
  EXPECT_EQ(results->fill.size(), strategies * 2 + 2);
  ASSERT_EQ(results->bounds.size(), 2U);
  EXPECT_EQ(results->churn.size(), strategies * 2);
  for (const FillRun& run : results->fill) {
    EXPECT_EQ(run.result.placed_pods + run.result.rejected_pods, run.result.arrived_pods)
        << run.strategy;
    EXPECT_TRUE(run.result.stayed_within_capacity) << run.strategy;
  }
  // No strategy leaves less unallocated than the bound of its seed.
  for (const FillRun& run : results->fill) {
    const BoundRun& bound =
        run.seed == results->bounds[0].seed ? results->bounds[0] : results->bounds[1];
    ASSERT_EQ(bound.seed, run.seed);
    EXPECT_LE(bound.bound.unallocated_at_full, run.result.unallocated_at_full + 1e-9)
        << run.strategy;
  }
  const std::string summary = summarize(*results);
  for (const char* name :
       {"kube-default", "FragmentationAware/ideal", "best-offline", "limit (LP bound)"}) {
    EXPECT_NE(summary.find(std::string("| ") + name + " |"), std::string::npos) << name;
  }
  EXPECT_NE(summary.find(" | n/a | n/a | n/a | n/a |\n\nLP bound: 6 pod shapes × 2 node types, "),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find(" ms (median)\n"), std::string::npos) << summary;  // a tiny LP

  // fill.csv: the bound under its own name, after the strategies' rows.
  std::ostringstream csv;
  write_fill_csv(csv, *results);
  const std::string text = csv.str();
  const PackingBound& first = results->bounds[0].bound;
  // std::to_string prints 6 decimals, as the CSV does.
  const std::string row = "\nlp-bound,42," + std::to_string(first.arrived_pods) + ",-1,-1," +
                          std::to_string(first.unallocated_at_full) + ",-1,1,-1,0.000,-1\n";
  EXPECT_NE(text.find(row), std::string::npos) << row << text;
  EXPECT_GT(text.find(row), text.find("\nbest-offline,43,")) << text;
  EXPECT_NE(text.find("\nlp-bound,43,"), std::string::npos) << text;
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

TEST(Study, WhatIfRunsSkipTheOfflineReferenceAndPrintTheirOwnTable) {
  Trace trace = small_cluster();
  for (SimNode& n : trace.nodes) {
    n.epc_used_bytes = n.epc_bytes / 4;  // 16 → 12 GiB free, 48 → 36 GiB: 480 of 640 GiB free
  }
  StudyOptions o = options(2);
  o.churn = false;
  o.fill_options.arrivals = 120;
  Result<StudyResults> results = run_study(trace, o);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(results->what_if_arrivals, 120);
  EXPECT_EQ(results->fill.size(), o.strategies.size() * 2);  // no best-offline
  EXPECT_TRUE(results->bounds.empty());                      // nor the LP bound
  for (const FillRun& run : results->fill) {
    EXPECT_NE(run.strategy, kBestOfflineName);
    EXPECT_EQ(run.result.arrived_pods, 120) << run.strategy;
  }
  const std::string summary = summarize(*results);
  EXPECT_EQ(summary.rfind("What-if: 120 pods arrive, no departures (median over 2 seeds;", 0), 0U)
      << summary;
  EXPECT_NE(summary.find("Cluster EPC: 640.00 GiB; held by pods already there: 160.00 GiB; free "
                         "before the arrivals: 480.00 GiB"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("| strategy | pods placed | pods rejected | EPC rejected | free EPC left "
                         "| within capacity |"),
            std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("Fill ("), std::string::npos) << summary;
  EXPECT_EQ(summary.find("best-offline"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("LP bound"), std::string::npos) << summary;
  EXPECT_NE(summary.find("| FragmentationAware/ideal | "), std::string::npos) << summary;

  // The CSV keeps its columns and adds the EPC ones: rejected, held at the start, free at the end.
  std::ostringstream csv;
  write_fill_csv(csv, *results);
  const std::string text = csv.str();
  EXPECT_EQ(text.rfind("strategy,seed,arrived_pods,placed_pods,rejected_pods,unallocated_at_full,"
                       "first_fitting_rejection,within_capacity,rejected_epc_gib,"
                       "used_at_start_epc_gib,free_at_end_epc_gib\n",
                       0),
            0U);
  EXPECT_NE(text.find(",160.000,"), std::string::npos);
}

TEST(Study, EmptyTraceIsAnError) {
  Trace empty;
  EXPECT_FALSE(run_study(empty, options(1)).ok());
}

}  // namespace
}  // namespace epc::tools::sim
