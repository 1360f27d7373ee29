#include "extender/core/pod_mix.h"

#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kGi;
using testing_support::pod;

double weight_of(const PodMix& mix, std::int64_t epc_bytes) {
  for (const PodMix::Entry& entry : mix.entries()) {
    if (entry.shape.epc_bytes == epc_bytes) {
      return entry.weight;
    }
  }
  return 0.0;
}

TEST(PodMix, RepeatedShapeIsOneEntry) {
  PodMix mix(100.0);
  mix.observe(pod(4 * kGi, 1));
  mix.observe(pod(4 * kGi, 1));
  mix.observe(pod(8 * kGi, 1));
  ASSERT_EQ(mix.entries().size(), 2U);
  EXPECT_GT(weight_of(mix, 4 * kGi), weight_of(mix, 8 * kGi));
}

TEST(PodMix, HalfLifeHalvesOldWeight) {
  // Half-life 2: after two more observations of another shape, the first one weighs 1/2.
  PodMix mix(2.0);
  mix.observe(pod(4 * kGi, 1));
  mix.observe(pod(8 * kGi, 1));
  mix.observe(pod(8 * kGi, 1));
  EXPECT_NEAR(weight_of(mix, 4 * kGi), 0.5, 1e-12);
  // 8 GiB: 1 · 2^-1/2 + 1.
  EXPECT_NEAR(weight_of(mix, 8 * kGi), std::exp2(-0.5) + 1.0, 1e-12);
  EXPECT_EQ(mix.entries().size(), 2U);
}

TEST(PodMix, PodsWithoutEpcAreNotPartOfTheMix) {
  PodMix mix;
  mix.observe(pod(0, 1));
  EXPECT_TRUE(mix.entries().empty());
}

TEST(PodMix, SlotsAreDistinguishingPartOfTheShape) {
  PodMix mix;
  mix.observe(pod(4 * kGi, 1));
  mix.observe(pod(4 * kGi, 2));
  EXPECT_EQ(mix.entries().size(), 2U);
}

TEST(PodMix, FullMixReplacesTheLightestShape) {
  PodMix mix(10.0);
  // Shape 1 GiB is seen first and then decays the most among the 32 distinct shapes.
  for (std::int64_t i = 1; i <= static_cast<std::int64_t>(PodMix::kMaxShapes); ++i) {
    mix.observe(pod(i * kGi, 1));
  }
  ASSERT_EQ(mix.entries().size(), PodMix::kMaxShapes);
  mix.observe(pod(100 * kGi, 1));
  EXPECT_EQ(mix.entries().size(), PodMix::kMaxShapes);
  EXPECT_EQ(weight_of(mix, 1 * kGi), 0.0);  // evicted
  EXPECT_EQ(weight_of(mix, 100 * kGi), 1.0);
  EXPECT_GT(weight_of(mix, 2 * kGi), 0.0);  // the others stay
}

}  // namespace
}  // namespace epc::core
