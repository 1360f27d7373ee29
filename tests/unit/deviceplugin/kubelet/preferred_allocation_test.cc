#include "deviceplugin/kubelet/preferred_allocation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace epc::deviceplugin::kubelet {
namespace {

using ::testing::ElementsAre;

TEST(PreferredAllocation, MustIncludeFirstThenAvailableInOrder) {
  // size 3: the one must-include id, then the first two available ids not already chosen.
  EXPECT_THAT(preferred_allocation({"d-4", "d-1", "d-2", "d-3"}, {"d-1"}, 3),
              ElementsAre("d-1", "d-4", "d-2"));
}

TEST(PreferredAllocation, SizeSmallerThanMustIncludeKeepsAllMustInclude) {
  EXPECT_THAT(preferred_allocation({"a", "b", "c"}, {"b", "c"}, 1), ElementsAre("b", "c"));
}

TEST(PreferredAllocation, ShortWhenNotEnoughAvailable) {
  EXPECT_THAT(preferred_allocation({"a", "b"}, {}, 5), ElementsAre("a", "b"));
}

TEST(PreferredAllocation, NoRepeatsAndNonPositiveSize) {
  EXPECT_THAT(preferred_allocation({"a", "a", "b"}, {"a", "a"}, 2), ElementsAre("a", "b"));
  EXPECT_THAT(preferred_allocation({"a", "b"}, {}, 0), ElementsAre());
  EXPECT_THAT(preferred_allocation({"a", "b"}, {"b"}, -3), ElementsAre("b"));
}

}  // namespace
}  // namespace epc::deviceplugin::kubelet
