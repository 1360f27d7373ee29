#include "extender/core/score/fragmentation_aware.h"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "extender/core/score/best_fit.h"
#include "tests/unit/extender/core/test_rows.h"

namespace epc::core::score {
namespace {

using testing_support::kGi;
using testing_support::NodeBuilder;
using testing_support::pod;

constexpr double kGiB = static_cast<double>(kGi);
// The mix below decays by a hair between its two observations: compare to within a KiB.
constexpr double kTolerance = 1024.0;

// A node with `free_gib` of 64 GiB EPC free and `free_slots` of 10 slots free.
NodeRow node_with_free(std::int64_t free_gib, std::int64_t free_slots = 10) {
  return NodeBuilder().epc(64 * kGi, (64 - free_gib) * kGi).enclave_slots(10, 10 - free_slots);
}

// Equal numbers of 4 GiB and 8 GiB pods (each needs one slot): by EPC, 1/3 and 2/3 of the demand.
MixDistribution four_and_eight() {
  PodMix mix(1e9);  // no decay to speak of: equal counts give equal weights
  mix.observe(pod(4 * kGi, 1));
  mix.observe(pod(8 * kGi, 1));
  return MixDistribution::from_mix(mix);
}

TEST(MixDistribution, ExpectedFragmentIsFreeEpcTimesChanceItIsUnusable) {
  const MixDistribution mix = four_and_eight();
  ASSERT_EQ(mix.size(), 2U);
  // 6 GiB free: the 8 GiB pods (2/3 of the EPC demand) cannot use it.
  EXPECT_NEAR(mix.expected_fragment(6 * kGi, 10), 4 * kGiB, kTolerance);
  // 3 GiB free: nobody can.
  EXPECT_NEAR(mix.expected_fragment(3 * kGi, 10), 3 * kGiB, kTolerance);
  // 8 GiB or more: everybody can.
  EXPECT_NEAR(mix.expected_fragment(8 * kGi, 10), 0.0, kTolerance);
  EXPECT_NEAR(mix.expected_fragment(40 * kGi, 10), 0.0, kTolerance);
  // No free slot: all EPC is stranded.
  EXPECT_NEAR(mix.expected_fragment(40 * kGi, 0), 40 * kGiB, kTolerance);
  EXPECT_NEAR(mix.expected_fragment(0, 10), 0.0, kTolerance);
}

TEST(MixDistribution, EmptyMixAndSingleShape) {
  EXPECT_TRUE(MixDistribution::from_mix(PodMix{}).empty());
  const MixDistribution single = MixDistribution::single(pod(4 * kGi, 1));
  EXPECT_NEAR(single.expected_fragment(3 * kGi, 5), 3 * kGiB, kTolerance);
  EXPECT_NEAR(single.expected_fragment(4 * kGi, 5), 0.0, kTolerance);
  EXPECT_TRUE(MixDistribution::single(pod(0, 1)).empty());
}

TEST(FragmentationDelta, WorkedExample) {
  const MixDistribution mix = four_and_eight();
  const PodRequest four = pod(4 * kGi, 1);
  // Free 6 → 2: F 4 → 2 GiB: the pod fills a hole the 8 GiB pods could not use.
  EXPECT_NEAR(fragmentation_delta(four, node_with_free(6), {}, mix), -2 * kGiB, kTolerance);
  // Free 12 → 8: 0 → 0.
  EXPECT_NEAR(fragmentation_delta(four, node_with_free(12), {}, mix), 0.0, kTolerance);
  // Free 8 → 4: 0 → 4 · 2/3 GiB: leaves a hole only the 4 GiB pods can use.
  EXPECT_NEAR(fragmentation_delta(four, node_with_free(8), {}, mix), 4 * kGiB * 2 / 3, kTolerance);
  // Last slot taken with 16 GiB still free: all of it is stranded.
  EXPECT_NEAR(fragmentation_delta(four, node_with_free(20, 1), {}, mix), 16 * kGiB, kTolerance);
}

TEST(FragmentationAware, AvoidsTheHoleBestFitWouldLeave) {
  const MixDistribution mix = four_and_eight();
  const ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  const PodRequest four = pod(4 * kGi, 1);
  const NodeRow free8 = node_with_free(8);
  const NodeRow free12 = node_with_free(12);
  // BestFit takes the 8 GiB hole (leaving 4); FragmentationAware keeps it for an 8 GiB pod.
  EXPECT_GT(best_fit_raw(four, free8, context), best_fit_raw(four, free12, context));
  EXPECT_GT(fragmentation_aware_raw(four, free12, context),
            fragmentation_aware_raw(four, free8, context));
  // The tight 6 GiB hole beats both.
  EXPECT_GT(fragmentation_aware_raw(four, node_with_free(6), context),
            fragmentation_aware_raw(four, free12, context));
}

TEST(FragmentationAware, EqualFragmentGoesToTheTighterNode) {
  const MixDistribution mix = four_and_eight();
  const ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  const PodRequest four = pod(4 * kGi, 1);
  EXPECT_GT(fragmentation_aware_raw(four, node_with_free(20), context),
            fragmentation_aware_raw(four, node_with_free(40), context));
}

TEST(FragmentationAware, WithoutAMixThePodItselfIsTheMix) {
  const ScoreContext context{};
  const PodRequest four = pod(4 * kGi, 1);
  const std::int64_t exact = fragmentation_aware_raw(four, node_with_free(4), context);
  const std::int64_t room_for_one_more = fragmentation_aware_raw(four, node_with_free(8), context);
  const std::int64_t leaves_two = fragmentation_aware_raw(four, node_with_free(6), context);
  EXPECT_GT(exact, room_for_one_more);
  EXPECT_GT(room_for_one_more, leaves_two);
}

TEST(FragmentationAware, BatchKeepsOrderAndBestScoresTen) {
  const MixDistribution mix = four_and_eight();
  const ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  const std::array<NodeRow, 4> rows{node_with_free(8), node_with_free(12), node_with_free(6),
                                    node_with_free(20, 1)};
  const std::array<const NodeRow*, 5> nodes{&rows[0], &rows[1], &rows[2], &rows[3], nullptr};
  std::array<std::int64_t, 5> raws{};
  fragmentation_aware_raws(pod(4 * kGi, 1), nodes, context, raws);
  // Same order as the single-node function; the lowest candidate is shifted to 1.
  for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows.size(); ++j) {
      EXPECT_EQ(raws[i] > raws[j], fragmentation_aware_raw(pod(4 * kGi, 1), rows[i], context) >
                                       fragmentation_aware_raw(pod(4 * kGi, 1), rows[j], context));
    }
  }
  EXPECT_EQ(raws[3], 1);  // the slot-stranding node is the worst
  EXPECT_EQ(raws[4], 0);  // null entry

  std::array<std::int64_t, 5> scores{};
  score_nodes(PolicyKind::kFragmentationAware, pod(4 * kGi, 1), nodes, context, scores);
  EXPECT_EQ(scores[2], kMaxExtenderScore);  // free 6: the tight fit
  EXPECT_LT(scores[1], kMaxExtenderScore);
  EXPECT_GT(scores[1], scores[0]);  // free 12 over free 8
  EXPECT_EQ(scores[3], 0);          // the worst maps to 0 after the shift
}

// The early-rejection pathology (docs/bin-packing.md): FGD's measure is per node, so a fresh node,
// whose hole only the rare whole-node shape needs, looks cheaper to cut into than a used node whose
// hole the common shapes need. Three 10 GiB nodes; by EPC, 45 % of the demand is 3 GiB pods, 45 %
// 5 GiB and 10 % 10 GiB. A 3 GiB pod on the node with 7 GiB free leaves 4: F 0.7 → 2.2 GiB, Δ 1.5;
// on an empty node it leaves 7: F 0 → 0.7, Δ 0.7. Measure alone, three 3 GiB pods would open all
// three nodes and the next 10 GiB pod would find no room, though one node holds all three.
MixDistribution threes_fives_and_a_whole_node() {
  PodMix mix(1e9);
  for (int i = 0; i < 15; ++i) {
    mix.observe(pod(3 * kGi, 1));
  }
  for (int i = 0; i < 9; ++i) {
    mix.observe(pod(5 * kGi, 1));
  }
  mix.observe(pod(10 * kGi, 1));
  return MixDistribution::from_mix(mix);
}

TEST(FragmentationAware, MeasureAloneWouldOpenAFreshNode) {
  const MixDistribution mix = threes_fives_and_a_whole_node();
  const PodRequest three = pod(3 * kGi, 1);
  const NodeRow used = NodeBuilder().epc(10 * kGi, 3 * kGi).enclave_slots(10, 1);
  const NodeRow fresh = NodeBuilder().epc(10 * kGi).enclave_slots(10);
  const double on_used = fragmentation_delta(three, used, {}, mix);
  const double on_fresh = fragmentation_delta(three, fresh, {}, mix);
  EXPECT_NEAR(on_used, 1.5 * kGiB, 0.01 * kGiB);
  EXPECT_NEAR(on_fresh, 0.7 * kGiB, 0.01 * kGiB);
  EXPECT_LT(on_fresh, on_used);
  // The policy still prefers the used node: fresh nodes come last while a used one takes the pod.
  const ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  EXPECT_GT(fragmentation_aware_raw(three, used, context),
            fragmentation_aware_raw(three, fresh, context));
}

TEST(FragmentationAware, KeepsAFreshNodeForTheWholeNodePod) {
  const MixDistribution mix = threes_fives_and_a_whole_node();
  const ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  std::array<NodeRow, 3> rows{};
  rows.fill(NodeBuilder().epc(10 * kGi).enclave_slots(10));
  // Places each pod as the extender's path does: fit first, then the batch over the nodes that
  // fit, the first of the best.
  const auto place = [&](const PodRequest& request) -> bool {
    std::array<const NodeRow*, 3> fitting{};
    std::array<std::size_t, 3> index{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (free_epc_bytes(rows[i], {}) >= request.epc_bytes) {
        fitting[count] = &rows[i];
        index[count++] = i;
      }
    }
    if (count == 0) {
      return false;
    }
    std::array<std::int64_t, 3> raws{};
    fragmentation_aware_raws(request, std::span(fitting).first(count), context,
                             std::span(raws).first(count));
    std::size_t best = 0;
    for (std::size_t c = 1; c < count; ++c) {
      best = raws[c] > raws[best] ? c : best;
    }
    rows[index[best]].epc_requested_bytes += request.epc_bytes;
    rows[index[best]].enclave_slots_used += request.enclave_slots;
    return true;
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(place(pod(3 * kGi, 1))) << "3 GiB pod " << i;
  }
  EXPECT_EQ(rows[0].epc_requested_bytes, 9 * kGi);  // all three on the first node
  EXPECT_TRUE(place(pod(10 * kGi, 1)));
  EXPECT_TRUE(place(pod(10 * kGi, 1)));
}

TEST(FragmentationAware, BatchRanksFreshNodesLastOnlyWhileAUsedOneFits) {
  const MixDistribution mix = threes_fives_and_a_whole_node();
  const ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  const std::array<NodeRow, 3> rows{NodeBuilder().epc(10 * kGi).enclave_slots(10),
                                    NodeBuilder().epc(10 * kGi, 3 * kGi).enclave_slots(10, 1),
                                    NodeBuilder().epc(10 * kGi, 6 * kGi).enclave_slots(10, 2)};
  const std::array<const NodeRow*, 3> nodes{&rows[0], &rows[1], &rows[2]};
  std::array<std::int64_t, 3> scores{};
  score_nodes(PolicyKind::kFragmentationAware, pod(3 * kGi, 1), nodes, context, scores);
  EXPECT_EQ(scores[0], 0);                  // fresh: last
  EXPECT_EQ(scores[2], kMaxExtenderScore);  // 4 → 1 GiB free: removes fragment (Δ −1.2 GiB)
  // Only fresh nodes among the candidates: they are ranked by the measure as before.
  const std::array<NodeRow, 2> fresh{NodeBuilder().epc(10 * kGi).enclave_slots(10),
                                     NodeBuilder().epc(20 * kGi).enclave_slots(10)};
  const std::array<const NodeRow*, 2> fresh_nodes{&fresh[0], &fresh[1]};
  std::array<std::int64_t, 2> fresh_scores{};
  score_nodes(PolicyKind::kFragmentationAware, pod(3 * kGi, 1), fresh_nodes, context, fresh_scores);
  // On the 20 GiB node the 3 GiB pod leaves a hole every shape can use (Δ 0); on the 10 GiB one
  // it cuts into the whole-node shape's (Δ 0.7 GiB).
  EXPECT_EQ(fresh_scores[1], kMaxExtenderScore);
  EXPECT_EQ(fresh_scores[0], 0);
}

TEST(FragmentationAware, NamedInThePolicyTable) {
  EXPECT_EQ(policy_from_name("FragmentationAware"), PolicyKind::kFragmentationAware);
  EXPECT_EQ(policy_name(PolicyKind::kFragmentationAware), "FragmentationAware");
}

}  // namespace
}  // namespace epc::core::score
