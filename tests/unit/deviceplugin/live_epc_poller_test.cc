#include "deviceplugin/live_epc_poller.h"

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>

#include "tools/standins/sgx_root_standin.h"

namespace epc::deviceplugin {
namespace {

using std::chrono::milliseconds;
using Reading = std::pair<bool, std::uint64_t>;

class LiveEpcPollerTest : public ::testing::Test {
 protected:
  LiveEpcPoller poller(milliseconds period = milliseconds(5000)) {
    return LiveEpcPoller({root_.path(), period}, [this](bool known, std::uint64_t used_bytes) {
      readings_.emplace_back(known, used_bytes);
    });
  }

  tools::standins::SgxRootStandin root_;
  std::vector<Reading> readings_;
};

TEST_F(LiveEpcPollerTest, PassesTheMiscCgroupReading) {
  root_.set_misc_sgx_epc(64ULL << 20, 12ULL << 20);
  ASSERT_TRUE(root_.status().ok());
  poller().poll_once();
  EXPECT_EQ(readings_, (std::vector<Reading>{{true, 12ULL << 20}}));
}

TEST_F(LiveEpcPollerTest, FollowsTheReadingAcrossPolls) {
  auto p = poller();
  root_.set_misc_sgx_epc(64ULL << 20, 1ULL << 20);
  p.poll_once();
  root_.set_misc_sgx_epc(64ULL << 20, 3ULL << 20);
  p.poll_once();
  EXPECT_EQ(readings_, (std::vector<Reading>{{true, 1ULL << 20}, {true, 3ULL << 20}}));
}

TEST_F(LiveEpcPollerTest, NoMiscCgroupIsUnknown) {
  auto p = poller();
  p.poll_once();
  EXPECT_EQ(readings_, (std::vector<Reading>{{false, 0}}));
  EXPECT_EQ(p.read_errors(), 0U);  // a kernel without the controller is not an error
}

TEST_F(LiveEpcPollerTest, GarbageIsUnknownNotAStaleNumber) {
  auto p = poller();
  root_.set_misc_sgx_epc(64ULL << 20, 5ULL << 20);
  p.poll_once();
  EXPECT_EQ(p.read_errors(), 0U);
  root_.write("sys/fs/cgroup/misc.current", "sgx_epc lots\n");
  p.poll_once();
  EXPECT_EQ(readings_, (std::vector<Reading>{{true, 5ULL << 20}, {false, 0}}));
  EXPECT_EQ(p.read_errors(), 1U);
}

TEST_F(LiveEpcPollerTest, PollsEveryPeriodUntilAStopSignal) {
  const StopSignals signals;  // blocks SIGINT/SIGTERM in this thread, so raise() stays pending
  root_.set_misc_sgx_epc(64ULL << 20, 2ULL << 20);
  int polls = 0;
  LiveEpcPoller p({root_.path(), milliseconds(5)}, [&](bool, std::uint64_t) {
    if (++polls == 3) {
      ::raise(SIGTERM);
    }
  });
  EXPECT_EQ(p.run_until_stopped(signals), SIGTERM);
  EXPECT_EQ(polls, 3);
}

}  // namespace
}  // namespace epc::deviceplugin
