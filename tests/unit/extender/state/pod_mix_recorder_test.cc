#include "extender/state/pod_mix_recorder.h"

#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace epc::state {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;
constexpr std::int64_t kSlots = 20;  // more than any shape here: only EPC decides usability

core::PodRequest pod_gi(std::int64_t epc_gi) { return core::PodRequest{epc_gi * kGi, 1, 0}; }

// The share of the mix's EPC demand in shapes larger than `free_gi` GiB, read back through F:
// expected_fragment(f, q) = f · share(s > f) when slots never block (q >= every shape's slots).
// Shares are by EPC: weight × size, normalised (core/score/fragmentation_aware.h).
double p_larger_than(const core::score::MixDistribution& mix, std::int64_t free_gi) {
  return mix.expected_fragment(free_gi * kGi, kSlots) / static_cast<double>(free_gi * kGi);
}

TEST(PodMixRecorderTest, starts_empty) {
  const PodMixRecorder recorder;
  EXPECT_TRUE(recorder.distribution().empty());
  EXPECT_EQ(recorder.observed_pods(), 0u);
  EXPECT_EQ(recorder.half_life_pods(), core::PodMix::kDefaultHalfLifePods);
}

// The returned distribution already contains the pod just observed: the first pod is the whole mix.
TEST(PodMixRecorderTest, returned_distribution_includes_the_observed_pod) {
  PodMixRecorder recorder;
  const core::score::MixDistribution mix = recorder.observe_and_distribution(pod_gi(4));
  ASSERT_EQ(mix.size(), 1u);
  EXPECT_DOUBLE_EQ(p_larger_than(mix, 3), 1.0);  // 4 GiB > 3 GiB
  EXPECT_DOUBLE_EQ(p_larger_than(mix, 4), 0.0);  // 4 GiB fits in 4 GiB
  EXPECT_EQ(recorder.observed_pods(), 1u);
}

// Half-life 1 pod: each observation halves the older weights. 8 GiB then 4 GiB:
//   w8 = 1 · 0.5 = 0.5, w4 = 1  →  by EPC 0.5 · 8 = 4 against 1 · 4 = 4: the 8 GiB share is 1/2
//   (by count it would be 1/3).
TEST(PodMixRecorderTest, distribution_follows_the_half_life) {
  PodMixRecorder recorder(1.0);
  recorder.observe_and_distribution(pod_gi(8));
  const core::score::MixDistribution mix = recorder.observe_and_distribution(pod_gi(4));
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_NEAR(p_larger_than(mix, 5), 0.5, 1e-12);
  EXPECT_NEAR(p_larger_than(mix, 3), 1.0, 1e-12);
  // distribution() reads the same mix without adding to it.
  EXPECT_NEAR(p_larger_than(recorder.distribution(), 5), 0.5, 1e-12);
  EXPECT_EQ(recorder.observed_pods(), 2u);
}

// Slot-only pods are not part of the EPC mix: the mix and the count stay as they were.
TEST(PodMixRecorderTest, pods_without_epc_are_not_observed) {
  PodMixRecorder recorder;
  recorder.observe_and_distribution(pod_gi(2));
  const core::score::MixDistribution mix =
      recorder.observe_and_distribution(core::PodRequest{0, 1, 0});
  EXPECT_EQ(mix.size(), 1u);
  EXPECT_DOUBLE_EQ(p_larger_than(mix, 1), 1.0);
  EXPECT_EQ(recorder.observed_pods(), 1u);
}

// Several HTTP threads observe at once. Each thread observes its own shape kPerThread times while
// the others do the same; no observation may be lost and each shape ends with its share of the
// mix. The half-life is long (10^6 pods) so that the interleaving order moves the weights by less
// than 1 − 2^(−4000/10^6) ≈ 0.3 %: equal counts of 1, 2, 3 and 4 GiB are 1/10, 2/10, 3/10 and 4/10
// of the EPC within 1 %. (Under TSan this test also checks that there is no data race.)
TEST(PodMixRecorderTest, concurrent_observers_lose_nothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  PodMixRecorder recorder(1e6);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&recorder, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Shapes 1, 2, 3, 4 GiB; read the result so the distribution path runs concurrently too.
        const core::score::MixDistribution mix = recorder.observe_and_distribution(pod_gi(t + 1));
        ASSERT_FALSE(mix.empty());
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(recorder.observed_pods(), static_cast<std::uint64_t>(kThreads * kPerThread));
  const core::score::MixDistribution mix = recorder.distribution();
  ASSERT_EQ(mix.size(), static_cast<std::size_t>(kThreads));
  // EPC share of the shapes larger than k GiB: (2 + 3 + 4)/10, (3 + 4)/10, 4/10.
  EXPECT_NEAR(p_larger_than(mix, 1), 0.9, 0.01);
  EXPECT_NEAR(p_larger_than(mix, 2), 0.7, 0.01);
  EXPECT_NEAR(p_larger_than(mix, 3), 0.4, 0.01);
}

}  // namespace
}  // namespace epc::state
