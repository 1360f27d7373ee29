#include "deviceplugin/report/slot_tracker.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace epc::deviceplugin::report {
namespace {

using namespace std::chrono_literals;

const std::string kEnclave = "sgx.intel.com/enclave";
const std::string kProvision = "sgx.intel.com/provision";

// PodResources answers scripted by the test; counts calls.
class FakePodResourcesClient final : public kubelet::PodResourcesClient {
 public:
  common::Result<std::vector<kubelet::PodDeviceUse>> list(
      const std::vector<std::string>& resources) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    asked_ = resources;
    if (!error_.empty()) {
      return common::Error{error_};
    }
    return pods_;
  }
  void set(std::vector<kubelet::PodDeviceUse> pods, std::string error = {}) {
    std::lock_guard lock(mutex_);
    pods_ = std::move(pods);
    error_ = std::move(error);
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<std::string> asked() const {
    std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<kubelet::PodDeviceUse> pods_;
  std::string error_;
  std::vector<std::string> asked_;
  int calls_ = 0;
};

class SlotTrackerTest : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds period) {
    auto client = std::make_unique<FakePodResourcesClient>();
    client_ = client.get();
    client_->set(
        {{"shop", "web", {{kEnclave, 1}}}, {"ml", "attest", {{kEnclave, 2}, {kProvision, 1}}}});
    SlotTracker::Options options;
    options.enclave_resource = kEnclave;
    options.provision_resource = kProvision;
    options.period = period;
    options.min_gap = 1ms;
    options.log = [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      logs_.push_back(line);
    };
    tracker_ = std::make_unique<SlotTracker>(options, std::move(client),
                                             [this](const std::vector<Holder>& holders) {
                                               std::lock_guard lock(mutex_);
                                               results_.push_back(holders);
                                               changed_.notify_all();
                                             });
  }

  bool wait_results(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return results_.size() >= n; });
  }

  FakePodResourcesClient* client_ = nullptr;
  std::unique_ptr<SlotTracker> tracker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<Holder>> results_;
  std::vector<std::string> logs_;
};

TEST_F(SlotTrackerTest, FirstListAtStartHoldersSortedWithSlotCounts) {
  start(1h);
  ASSERT_TRUE(wait_results(1));
  std::lock_guard lock(mutex_);
  const auto& holders = results_[0];
  ASSERT_EQ(holders.size(), 2U);
  EXPECT_EQ(holders[0].pod_namespace, "ml");  // sorted by namespace/name
  EXPECT_EQ(holders[0].enclave_slots, 2U);
  EXPECT_EQ(holders[0].provision_slots, 1U);
  EXPECT_EQ(holders[1].pod_name, "web");
  EXPECT_EQ(holders[1].provision_slots, 0U);
  EXPECT_EQ(client_->asked(), (std::vector<std::string>{kEnclave, kProvision}));
}

TEST_F(SlotTrackerTest, PokeListsAgainAndOnlyChangesAreReported) {
  start(1h);  // no periodic poll during the test: only pokes
  ASSERT_TRUE(wait_results(1));
  client_->set({{"shop", "web", {{kEnclave, 1}}}});  // "attest" finished
  tracker_->poke();
  ASSERT_TRUE(wait_results(2));
  {
    std::lock_guard lock(mutex_);
    ASSERT_EQ(results_[1].size(), 1U);
    EXPECT_EQ(results_[1][0].pod_name, "web");
  }
  // Unchanged answers: listed, but not reported.
  const int calls = client_->calls();
  tracker_->poke();
  while (client_->calls() == calls) {
    std::this_thread::sleep_for(1ms);
  }
  tracker_->stop();
  std::lock_guard lock(mutex_);
  EXPECT_EQ(results_.size(), 2U);
}

TEST_F(SlotTrackerTest, ErrorsAreLoggedOnceAndHoldersKept) {
  start(1h);
  ASSERT_TRUE(wait_results(1));
  client_->set({}, "connection refused");
  for (int i = 0; i < 3; ++i) {
    const int calls = client_->calls();
    tracker_->poke();
    while (client_->calls() == calls) {
      std::this_thread::sleep_for(1ms);
    }
  }
  tracker_->stop();
  std::lock_guard lock(mutex_);
  EXPECT_EQ(results_.size(), 1U);  // no empty holder list reported on failure
  ASSERT_EQ(logs_.size(), 1U);
  EXPECT_NE(logs_[0].find("connection refused"), std::string::npos);
}

TEST_F(SlotTrackerTest, PollsPeriodically) {
  start(5ms);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (client_->calls() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(client_->calls(), 3);
}

}  // namespace
}  // namespace epc::deviceplugin::report
