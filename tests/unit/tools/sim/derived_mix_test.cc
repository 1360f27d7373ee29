#include "tools/sim/derived_mix.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/tools/sim/sim_fixtures.h"

namespace epc::tools::sim {
namespace {

using testing_support::kGi;
using testing_support::node;
using testing_support::pod;

// Three nodes: median EPC 64 GiB (so "small" is at most 8 GiB, "large" at least 16 GiB); in all
// 96 CPUs and 192 GiB of EPC, so a pod is CPU-dominant when cpus / 96 > epc / 192, i.e. when it
// asks for more than one CPU per 2 GiB of EPC.
std::vector<SimNode> cluster() {
  return {node("a", 32, 256, 32), node("b", 32, 256, 64), node("c", 32, 256, 96)};
}

std::int64_t count_epc(const std::vector<SimPod>& pods, std::int64_t epc_gib) {
  return std::count_if(pods.begin(), pods.end(),
                       [&](const SimPod& p) { return p.epc_bytes == epc_gib * kGi; });
}

TEST(DerivedMix, NamesRoundTrip) {
  for (const MixKind kind :
       {MixKind::kAsListed, MixKind::kSmallPods, MixKind::kCpuHeavy, MixKind::kLargePods}) {
    EXPECT_EQ(mix_from_name(mix_name(kind)), kind);
  }
  EXPECT_FALSE(mix_from_name("tiny").has_value());
}

TEST(DerivedMix, SmallPodsKeepsOnlyPodsUpToAnEighthOfTheMedianNode) {
  const std::vector<SimPod> pods{pod(1, 4, 2), pod(1, 4, 8), pod(1, 4, 9), pod(1, 4, 40)};
  const auto mix = derive_mix(MixKind::kSmallPods, pods, cluster());
  ASSERT_TRUE(mix.ok()) << mix.error().message;
  ASSERT_EQ(mix->size(), 2U);
  EXPECT_EQ(count_epc(*mix, 2), 1);
  EXPECT_EQ(count_epc(*mix, 8), 1);
}

TEST(DerivedMix, LargePodsAreRepeatedThreeTimes) {
  const std::vector<SimPod> pods{pod(1, 4, 2), pod(1, 4, 15), pod(1, 4, 16), pod(1, 4, 40)};
  const auto mix = derive_mix(MixKind::kLargePods, pods, cluster());
  ASSERT_TRUE(mix.ok()) << mix.error().message;
  EXPECT_EQ(count_epc(*mix, 2), 1);
  EXPECT_EQ(count_epc(*mix, 15), 1);
  EXPECT_EQ(count_epc(*mix, 16), kLargePodRepeat);
  EXPECT_EQ(count_epc(*mix, 40), kLargePodRepeat);
}

TEST(DerivedMix, CpuHeavyRepeatsCpuDominantPodsUntilCpuBinds) {
  // 8 CPUs for 2 GiB is CPU-dominant (8/96 > 2/192); 1 CPU for 20 GiB is not. Shares of the
  // list: CPU 9/96 = 0.094 against EPC 22/192 = 0.115. With the dominant pod twice: CPU 17/96 =
  // 0.177, EPC 24/192 = 0.125: CPU binds at r = 2.
  const std::vector<SimPod> pods{pod(8, 4, 2), pod(1, 4, 20)};
  const auto mix = derive_mix(MixKind::kCpuHeavy, pods, cluster());
  ASSERT_TRUE(mix.ok()) << mix.error().message;
  EXPECT_EQ(count_epc(*mix, 2), 2);
  EXPECT_EQ(count_epc(*mix, 20), 1);
  double cpu = 0;
  double epc = 0;
  for (const SimPod& p : *mix) {
    cpu += static_cast<double>(p.cpu_milli) / 96'000.0;
    epc += static_cast<double>(p.epc_bytes) / static_cast<double>(192 * kGi);
  }
  EXPECT_GE(cpu, epc);
}

TEST(DerivedMix, ClearErrorsWhenNoPodQualifies) {
  const std::vector<SimPod> only_large{pod(1, 4, 40)};
  const auto small = derive_mix(MixKind::kSmallPods, only_large, cluster());
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("small-pods"), std::string::npos);
  // No CPU-dominant pod at all: no repeat count makes CPU bind.
  const auto heavy = derive_mix(MixKind::kCpuHeavy, only_large, cluster());
  ASSERT_FALSE(heavy.ok());
  EXPECT_NE(heavy.error().message.find("cpu-heavy"), std::string::npos);
}

TEST(DerivedMix, AsListedIsTheListUnchanged) {
  const std::vector<SimPod> pods{pod(1, 4, 2, 10), pod(3, 8, 30, 20)};
  const auto mix = derive_mix(MixKind::kAsListed, pods, cluster());
  ASSERT_TRUE(mix.ok());
  ASSERT_EQ(mix->size(), 2U);
  EXPECT_EQ((*mix)[1].lifetime_s, 20);
}

}  // namespace
}  // namespace epc::tools::sim
