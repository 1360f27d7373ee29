#include "tools/sim/sim_options.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc::tools::sim {
namespace {

using common::Result;

Result<SimOptions> parse(std::vector<std::string> args) { return parse_sim_options(args); }

TEST(SimOptions, OpenbInputWithDefaults) {
  Result<SimOptions> o = parse({"--nodes", "n.csv", "--pods", "p.csv"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->seeds.size(), 10U);
  EXPECT_EQ(o->seeds.front(), 42U);
  EXPECT_EQ(o->seeds.back(), 51U);
  EXPECT_TRUE(o->fill && o->churn);
  EXPECT_EQ(o->deployment.extender_weight, kRecommendedExtenderWeight);
  EXPECT_EQ(o->deployment.percentage_of_nodes_to_score, 100);
  EXPECT_EQ(o->deployment.extender_profile, KubeFitScoring::kLeastAllocated);
  EXPECT_TRUE(o->deployment.extender_tie_break);
}

TEST(SimOptions, EveryFlag) {
  Result<SimOptions> o = parse({"--trace",
                                "c.yaml",
                                "--protocol",
                                "churn",
                                "--seeds",
                                "1,5,9",
                                "--weight",
                                "7",
                                "--percentage-of-nodes-to-score",
                                "0",
                                "--churn-arrivals",
                                "1000",
                                "--threads",
                                "3",
                                "--strategies",
                                "BestFit,kube-default",
                                "--out",
                                "/tmp/x",
                                "--quiet",
                                "--profile",
                                "most-allocated",
                                "--tie-break",
                                "off"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_FALSE(o->fill);
  EXPECT_TRUE(o->churn);
  EXPECT_EQ(o->seeds, (std::vector<std::uint64_t>{1, 5, 9}));
  EXPECT_EQ(o->deployment.extender_weight, 7);
  EXPECT_EQ(o->deployment.percentage_of_nodes_to_score, 0);
  EXPECT_EQ(o->deployment.extender_profile, KubeFitScoring::kMostAllocated);
  EXPECT_FALSE(o->deployment.extender_tie_break);
  EXPECT_EQ(o->churn_arrivals, 1000);
  EXPECT_EQ(o->threads, 3U);
  EXPECT_EQ(o->strategies, "BestFit,kube-default");
  EXPECT_TRUE(o->quiet);
}

TEST(SimOptions, ClearErrors) {
  const auto error_of = [](std::vector<std::string> args) {
    Result<SimOptions> o = parse_sim_options(args);
    return o.ok() ? std::string("accepted") : o.error().message;
  };
  EXPECT_EQ(error_of({}), "give either --nodes and --pods (openb CSV) or --trace (see --help)");
  EXPECT_EQ(error_of({"--nodes", "n.csv"}), "--nodes and --pods go together");
  EXPECT_EQ(error_of({"--trace", "t.yaml", "--weight", "0"}),
            "flag --weight: \"0\" is not a weight between 1 and 1000000");
  EXPECT_EQ(
      error_of({"--trace", "t.yaml", "--seeds", "9..3"}),
      "flag --seeds: \"9..3\" is not a seed range A..B or a list A,B,C (at most 10000 seeds)");
  EXPECT_EQ(error_of({"--trace", "t.yaml", "--protocol", "drain"}),
            "flag --protocol: \"drain\" is not fill, churn or both");
  EXPECT_EQ(error_of({"--trace", "t.yaml", "--profile", "spread"}),
            "flag --profile: \"spread\" is not default, most-allocated or none");
  EXPECT_EQ(error_of({"--trace", "t.yaml", "--bogus", "1"}), "unknown flag --bogus (see --help)");
  EXPECT_EQ(error_of({"--trace"}), "flag --trace needs a value (see --help)");
}

TEST(SimOptions, ArrivalsMeansAWhatIfFillRun) {
  Result<SimOptions> o = parse({"--trace", "t.yaml", "--arrivals", "300"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->arrivals, 300);
  EXPECT_TRUE(o->fill);
  EXPECT_FALSE(o->churn);  // implied: a what-if run has no departures
  // --protocol fill says the same, before or after the flag.
  for (const auto& args :
       {std::vector<std::string>{"--trace", "t.yaml", "--protocol", "fill", "--arrivals",
                                 "10000000"},
        std::vector<std::string>{"--trace", "t.yaml", "--arrivals", "1", "--protocol", "fill"}}) {
    Result<SimOptions> with_fill = parse(args);
    ASSERT_TRUE(with_fill.ok()) << with_fill.error().message;
    EXPECT_TRUE(with_fill->fill);
    EXPECT_FALSE(with_fill->churn);
  }
  Result<SimOptions> standard = parse({"--trace", "t.yaml"});
  ASSERT_TRUE(standard.ok());
  EXPECT_EQ(standard->arrivals, 0);
}

TEST(SimOptions, ArrivalsErrors) {
  const auto error_of = [](std::vector<std::string> args) {
    Result<SimOptions> o = parse_sim_options(args);
    return o.ok() ? std::string("accepted") : o.error().message;
  };
  for (const char* bad : {"0", "-5", "10000001", "many", "1e3"}) {
    EXPECT_EQ(error_of({"--trace", "t.yaml", "--arrivals", bad}),
              std::string("flag --arrivals: \"") + bad + "\" is not a count between 1 and 10000000")
        << bad;
  }
  EXPECT_EQ(error_of({"--trace", "t.yaml", "--arrivals", "10", "--protocol", "churn"}),
            "--arrivals runs the fill protocol only; it cannot be combined with --protocol churn "
            "(drop --protocol or use fill)");
  EXPECT_EQ(error_of({"--trace", "t.yaml", "--protocol", "both", "--arrivals", "10"}),
            "--arrivals runs the fill protocol only; it cannot be combined with --protocol both "
            "(drop --protocol or use fill)");
}

TEST(SimOptions, UnknownStrategyNamesTheKnownOnes) {
  Result<std::vector<Strategy>> s = select_strategies("BestFit,Spread", Deployment{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("unknown strategy \"Spread\""), std::string::npos);
  EXPECT_NE(s.error().message.find("FragmentationAware/ideal"), std::string::npos);
}

}  // namespace
}  // namespace epc::tools::sim
