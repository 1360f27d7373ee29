#include "extender/kube/backoff.h"

#include <gtest/gtest.h>

#include "extender/kube/binder.h"

namespace epc::kube {
namespace {

TEST(Backoff, grows_with_jitter_up_to_the_cap_and_never_waits_zero) {
  Backoff backoff(100, 3000, 7);
  std::int64_t ceiling = 100;
  for (int i = 0; i < 10; ++i) {
    const std::int64_t wait = backoff.next_ms();
    EXPECT_GE(wait, ceiling / 2) << "attempt " << i;
    EXPECT_LE(wait, ceiling) << "attempt " << i;
    EXPECT_GT(wait, 0);
    ceiling = std::min<std::int64_t>(ceiling * 2, 3000);
  }
  EXPECT_EQ(backoff.failures(), 10);
  backoff.reset();
  EXPECT_LE(backoff.next_ms(), 100);
}

TEST(Backoff, different_seeds_spread_the_same_failure) {
  Backoff a(1000, 30000, 1);
  Backoff b(1000, 30000, 2);
  bool differed = false;
  for (int i = 0; i < 5; ++i) {
    differed = differed || a.next_ms() != b.next_ms();
  }
  EXPECT_TRUE(differed);
}

TEST(ValidObjectName, accepts_dns_subdomains_only) {
  EXPECT_TRUE(valid_object_name("sgx-node-0.example"));
  EXPECT_FALSE(valid_object_name(""));
  EXPECT_FALSE(valid_object_name("Upper"));
  EXPECT_FALSE(valid_object_name("a/b"));
  EXPECT_FALSE(valid_object_name("a\"b"));
  EXPECT_FALSE(valid_object_name(std::string(254, 'a')));
}

}  // namespace
}  // namespace epc::kube
