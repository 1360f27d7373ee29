#include "deviceplugin/stop_signals.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <signal.h>

namespace epc::deviceplugin {
namespace {

using std::chrono::milliseconds;

// raise() sends to the calling thread, which StopSignals blocked: the signal stays pending until
// a wait takes it, and the test process is not terminated.

TEST(StopSignals, WaitForTimesOutWithZero) {
  const StopSignals signals;
  EXPECT_EQ(signals.wait_for(milliseconds(10)), 0);
}

TEST(StopSignals, WaitForTakesAPendingSigterm) {
  const StopSignals signals;
  ::raise(SIGTERM);
  EXPECT_EQ(signals.wait_for(milliseconds(1000)), SIGTERM);
}

TEST(StopSignals, WaitTakesAPendingSigint) {
  const StopSignals signals;
  ::raise(SIGINT);
  EXPECT_EQ(signals.wait(), SIGINT);
}

TEST(StopSignals, NamesForTheLog) {
  EXPECT_EQ(std::string(stop_signal_name(SIGINT)), "SIGINT");
  EXPECT_EQ(std::string(stop_signal_name(SIGTERM)), "SIGTERM");
}

}  // namespace
}  // namespace epc::deviceplugin
