#include "common/loopback_address.h"

#include <gtest/gtest.h>

namespace epc::common {
namespace {

TEST(LoopbackAddress, OnlyThisMachinesAddressesAreLoopback) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "unix:/run/x",
                           "unix-abstract:epc"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host :
       {"0.0.0.0", "::", "[::]", "10.0.0.1", "127.evil.example", "127.0.0", "127.0.0.1.5",
        "1270.0.0.1", "127.0.0.1234", "", "localhost.example", "epc-extender.sgx-system.svc"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(LoopbackAddress, HostOfSplitsThePortOff) {
  EXPECT_EQ(host_of("127.0.0.1:9090"), "127.0.0.1");
  EXPECT_EQ(host_of("[::1]:9090"), "[::1]");
  EXPECT_EQ(host_of("::1"), "::1");
  EXPECT_EQ(host_of("name.svc:9090"), "name.svc");
  EXPECT_EQ(host_of("unix:/tmp/x.sock"), "unix:/tmp/x.sock");
  EXPECT_EQ(host_of("0.0.0.0:9090"), "0.0.0.0");
  EXPECT_FALSE(is_loopback_host(host_of("0.0.0.0:9090")));
}

}  // namespace
}  // namespace epc::common
