// The device plugin's kubelet side end to end: PluginSupervisor serving the SGX resources of a fake
// SGX root, registering with the kubelet stand-in (tools/standins), which dials back,
// opens ListAndWatch and calls Allocate like kubelet does.
#include "deviceplugin/kubelet/plugin_supervisor.h"

#include <chrono>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deviceplugin/kubelet/registration_client_impl.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/sgx_resources.h"
#include "tests/support/process_counts.h"
#include "tests/support/time_scale.h"
#include "tools/standins/kubelet_standin.h"
#include "tools/standins/sgx_root_standin.h"
#include "tools/standins/temp_dir.h"

namespace epc::deviceplugin::kubelet {
namespace {

using namespace std::chrono_literals;
using tools::standins::DeviceView;
using tools::standins::KubeletStandin;
using tools::standins::SgxRootStandin;
using tools::standins::TempDir;

const std::string kEnclave(common::kEnclaveResource);
const std::string kProvision(common::kProvisionResource);
constexpr std::uint64_t kGiB = 1ULL << 30;
// Generous waits for things that should happen at once: they only bound a failing test.
constexpr auto kWait = 10s;
// Counts unchanged this long after a restart: gRPC is done winding the old connections down.
constexpr auto kSettleQuiet = 300ms;

bool all_health(const std::vector<DeviceView>& devices, const std::string& health) {
  return !devices.empty() && std::all_of(devices.begin(), devices.end(),
                                         [&](const DeviceView& d) { return d.health == health; });
}

bool socket_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

class PluginSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override { root_.make_sgx2_node(2, 64 * kGiB); }

  void TearDown() override {
    if (supervisor_) {
      supervisor_->stop();
    }
    kubelet_.stop();
  }

  // Discovery on the fake root, then the supervisor for what it found.
  void start_plugin(SlotLimits limits = {}, PluginOptions options = {}) {
    sgx::DiscoveryOptions discovery;
    discovery.root = root_.path();
    auto info = sgx::discover(discovery);
    ASSERT_TRUE(info.ok()) << info.error().message;
    auto settings = sgx_plugin_settings(root_.path(), *info, limits);
    for (auto& s : settings) {
      s.options = options;
    }
    PluginSupervisor::Options supervisor_options;
    supervisor_options.device_plugin_dir = dir_.path();
    supervisor_options.check_interval = 100ms;
    supervisor_options.log = [this](const std::string& line) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(line);
    };
    supervisor_options.allocated = [this](const std::string& resource,
                                          const std::vector<std::string>& ids) {
      std::lock_guard lock(log_mutex_);
      allocated_.emplace_back(resource, ids);
    };
    auto supervisor = PluginSupervisor::create(
        supervisor_options, std::move(settings),
        std::make_unique<RegistrationClientImpl>(kubelet_.socket_path(), 5000ms));
    ASSERT_TRUE(supervisor.ok()) << supervisor.error().message;
    supervisor_ = std::move(supervisor).value();
  }

  void start_both(SlotLimits limits = {}, PluginOptions options = {}) {
    ASSERT_TRUE(kubelet_.start().ok());
    start_plugin(limits, options);
    ASSERT_TRUE(kubelet_.wait_for_registrations(kEnclave, 1, kWait));
    ASSERT_TRUE(kubelet_.wait_for_registrations(kProvision, 1, kWait));
    ASSERT_TRUE(kubelet_.wait_for_devices(
        kEnclave, [](const auto& d) { return all_health(d, "Healthy"); }, kWait));
    ASSERT_TRUE(kubelet_.wait_for_devices(
        kProvision, [](const auto& d) { return all_health(d, "Healthy"); }, kWait));
  }

  std::string log_text() {
    std::lock_guard lock(log_mutex_);
    std::string out;
    for (const auto& line : log_) {
      out += line + "\n";
    }
    return out;
  }

  SgxRootStandin root_;
  TempDir dir_{"epc-dp"};
  KubeletStandin kubelet_{dir_.path()};
  std::unique_ptr<PluginSupervisor> supervisor_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
  std::vector<std::pair<std::string, std::vector<std::string>>> allocated_;
};

TEST_F(PluginSupervisorTest, RegistersEachResourceWithKubeletsFields) {
  PluginOptions options;
  options.get_preferred_allocation_available = true;
  start_both({}, options);
  const auto records = kubelet_.registrations();
  ASSERT_EQ(records.size(), 2U) << log_text();
  for (const auto& record : records) {
    EXPECT_EQ(record.version, "v1beta1");
    // The stand-in dialled <dir>/<endpoint> and called GetDevicePluginOptions inside Register:
    // the plugin served before registering.
    if (record.resource_name == kEnclave) {
      EXPECT_EQ(record.endpoint, "sgx.intel.com-enclave.sock");
    } else {
      EXPECT_EQ(record.resource_name, kProvision);
      EXPECT_EQ(record.endpoint, "sgx.intel.com-provision.sock");
    }
    EXPECT_TRUE(record.request_get_preferred_allocation_available);
    EXPECT_TRUE(record.options_get_preferred_allocation_available);
    EXPECT_FALSE(record.request_pre_start_required);
    EXPECT_FALSE(record.options_pre_start_required);
  }
  EXPECT_TRUE(socket_exists(dir_.file("sgx.intel.com-enclave.sock")));
  EXPECT_TRUE(socket_exists(dir_.file("sgx.intel.com-provision.sock")));
  // status() is published at the end of each check, a moment after kubelet saw the Register.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  auto status = supervisor_->status();
  while (!(status[0].registered && status[1].registered) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    status = supervisor_->status();
  }
  ASSERT_EQ(status.size(), 2U);
  EXPECT_TRUE(status[0].registered);
  EXPECT_TRUE(status[0].serving);
  EXPECT_EQ(status[0].registration_count, 1U);
}

TEST_F(PluginSupervisorTest, ListsDefault110HealthySlotsWithoutTopology) {
  start_both();
  const auto devices = kubelet_.devices(kEnclave);
  ASSERT_TRUE(devices.has_value());
  ASSERT_EQ(devices->size(), 110U);
  for (std::size_t i = 0; i < devices->size(); ++i) {
    EXPECT_EQ((*devices)[i].id, "sgx-enclave-" + std::to_string(i));
    EXPECT_EQ((*devices)[i].health, "Healthy");
    EXPECT_FALSE((*devices)[i].has_topology);
  }
  const auto provision = kubelet_.devices(kProvision);
  ASSERT_TRUE(provision.has_value());
  ASSERT_EQ(provision->size(), 110U);
  EXPECT_EQ(provision->front().id, "sgx-provision-0");
}

TEST_F(PluginSupervisorTest, SlotLimitsAreConfigurable) {
  start_both(SlotLimits{7, 3});
  EXPECT_EQ(kubelet_.devices(kEnclave)->size(), 7U);
  EXPECT_EQ(kubelet_.devices(kProvision)->size(), 3U);
}

TEST_F(PluginSupervisorTest, RegistersWhenKubeletComesUpLater) {
  start_plugin();
  // The plugin serves and retries; kubelet.sock appears later. Waits for the plugin's own socket
  // rather than sleeping a fixed time, which a slow (sanitized) build overran.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!socket_exists(dir_.file("sgx.intel.com-enclave.sock")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(socket_exists(dir_.file("sgx.intel.com-enclave.sock")));
  std::this_thread::sleep_for(150ms);  // a few registration attempts, all refused
  EXPECT_EQ(kubelet_.registration_count(kEnclave), 0U);
  ASSERT_TRUE(kubelet_.start().ok());
  EXPECT_TRUE(kubelet_.wait_for_registrations(kEnclave, 1, kWait)) << log_text();
  EXPECT_TRUE(kubelet_.wait_for_registrations(kProvision, 1, kWait)) << log_text();
}

TEST_F(PluginSupervisorTest, HealthFollowsTheDeviceNode) {
  start_both();
  const std::size_t before = kubelet_.list_messages(kEnclave);
  root_.remove("dev/sgx_enclave");
  ASSERT_TRUE(kubelet_.wait_for_devices(
      kEnclave, [](const auto& d) { return all_health(d, "Unhealthy"); }, kWait))
      << log_text();
  EXPECT_GT(kubelet_.list_messages(kEnclave), before);
  EXPECT_EQ(kubelet_.devices(kEnclave)->size(), 110U);  // still listed, only unhealthy
  // The other resource is untouched.
  EXPECT_TRUE(all_health(*kubelet_.devices(kProvision), "Healthy"));
  // An Allocate now fails: the device node it would mount is gone.
  auto refused = kubelet_.allocate(kEnclave, {{"sgx-enclave-0"}});
  EXPECT_FALSE(refused.ok());

  root_.add_device_nodes(true, false);
  ASSERT_TRUE(kubelet_.wait_for_devices(
      kEnclave, [](const auto& d) { return all_health(d, "Healthy"); }, kWait))
      << log_text();
  EXPECT_TRUE(kubelet_.allocate(kEnclave, {{"sgx-enclave-0"}}).ok());
  EXPECT_NE(log_text().find("Unhealthy: missing"), std::string::npos) << log_text();
}

TEST_F(PluginSupervisorTest, AllocateMountsTheDeviceNodeForEachContainer) {
  start_both();
  auto response =
      kubelet_.allocate(kEnclave, {{"sgx-enclave-3"}, {"sgx-enclave-4", "sgx-enclave-5"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  ASSERT_EQ(response->container_responses_size(), 2);
  for (const auto& container : response->container_responses()) {
    ASSERT_EQ(container.devices_size(), 1);
    EXPECT_EQ(container.devices(0).container_path(), "/dev/sgx_enclave");
    EXPECT_EQ(container.devices(0).host_path(), "/dev/sgx_enclave");
    EXPECT_EQ(container.devices(0).permissions(), "rw");
    // Nothing the container does not need.
    EXPECT_EQ(container.mounts_size(), 0);
    EXPECT_EQ(container.envs_size(), 0);
    EXPECT_EQ(container.annotations_size(), 0);
    EXPECT_EQ(container.cdi_devices_size(), 0);
  }
  auto provision = kubelet_.allocate(kProvision, {{"sgx-provision-0"}});
  ASSERT_TRUE(provision.ok()) << provision.error().message;
  ASSERT_EQ(provision->container_responses_size(), 1);
  ASSERT_EQ(provision->container_responses(0).devices_size(), 1);
  EXPECT_EQ(provision->container_responses(0).devices(0).host_path(), "/dev/sgx_provision");

  std::lock_guard lock(log_mutex_);
  ASSERT_EQ(allocated_.size(), 3U);
  EXPECT_EQ(allocated_[0].first, kEnclave);
  EXPECT_THAT(allocated_[1].second, ::testing::ElementsAre("sgx-enclave-4", "sgx-enclave-5"));
  EXPECT_EQ(allocated_[2].first, kProvision);
}

TEST_F(PluginSupervisorTest, AllocateRefusesIdsThatAreNotOurs) {
  start_both(SlotLimits{10, 10});
  auto foreign = kubelet_.allocate(kEnclave, {{"sgx-provision-1"}});
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("unknown device id"), std::string::npos);
  EXPECT_FALSE(kubelet_.allocate(kEnclave, {{"sgx-enclave-10"}}).ok());  // beyond the limit
  EXPECT_FALSE(kubelet_.allocate(kEnclave, {{}}).ok());
  std::lock_guard lock(log_mutex_);
  EXPECT_TRUE(allocated_.empty());
}

TEST_F(PluginSupervisorTest, PreferredAllocationAndPreStart) {
  PluginOptions options;
  options.get_preferred_allocation_available = true;
  start_both({}, options);
  auto preferred = kubelet_.get_preferred_allocation(
      kEnclave, {"sgx-enclave-9", "sgx-enclave-2", "sgx-enclave-5"}, {"sgx-enclave-5"}, 2);
  ASSERT_TRUE(preferred.ok()) << preferred.error().message;
  ASSERT_EQ(preferred->container_responses_size(), 1);
  EXPECT_THAT(preferred->container_responses(0).deviceids(),
              ::testing::ElementsAre("sgx-enclave-5", "sgx-enclave-9"));
  EXPECT_TRUE(kubelet_.pre_start_container(kEnclave, {"sgx-enclave-1"}).ok());
  EXPECT_FALSE(kubelet_.pre_start_container(kEnclave, {"gpu-1"}).ok());
}

TEST_F(PluginSupervisorTest, NoSgxAdvertisesNothing) {
  SgxRootStandin bare;
  bare.set_cpu_flags("");
  sgx::DiscoveryOptions discovery;
  discovery.root = bare.path();
  auto info = sgx::discover(discovery);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(sgx_plugin_settings(bare.path(), *info, {}).empty());
  // Without /dev/sgx_provision only the enclave resource is served.
  root_.remove("dev/sgx_provision");
  discovery.root = root_.path();
  info = sgx::discover(discovery);
  ASSERT_TRUE(info.ok());
  const auto settings = sgx_plugin_settings(root_.path(), *info, {});
  ASSERT_EQ(settings.size(), 1U);
  EXPECT_EQ(settings[0].resource_name, kEnclave);
}

TEST_F(PluginSupervisorTest, StopRemovesNothingButStopsServing) {
  start_both();
  supervisor_->stop();
  // Kubelet's stream ends: our server is gone.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (kubelet_.stream_open(kEnclave) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(kubelet_.stream_open(kEnclave));
  const auto status = supervisor_->status();
  EXPECT_FALSE(status[0].serving);
  EXPECT_FALSE(status[0].registered);
}

TEST_F(PluginSupervisorTest, KubeletDeletingOnlyOurSocketMakesUsServeAndRegisterAgain) {
  start_both();
  ASSERT_EQ(::unlink(dir_.file("sgx.intel.com-enclave.sock").c_str()), 0);
  ASSERT_TRUE(kubelet_.wait_for_registrations(kEnclave, 2, kWait)) << log_text();
  EXPECT_TRUE(socket_exists(dir_.file("sgx.intel.com-enclave.sock")));
  EXPECT_TRUE(kubelet_.wait_for_devices(
      kEnclave, [](const auto& d) { return all_health(d, "Healthy"); }, kWait));
  EXPECT_EQ(kubelet_.registration_count(kProvision), 1U);  // untouched
}

// Kubelet restarts 20 times in a row (spec §6.3): both resources are registered again within 1 s
// each time, exactly once, and nothing of ours accumulates. After every restart, once the counts
// have settled: open descriptors exactly at the baseline taken when the first restart had settled
// (gRPC opens some lazily, on first use), and our own threads exactly one supervisor loop plus one
// service thread per served resource. A server, channel, completion queue or thread left behind by
// a restart would break one of these.
// gRPC's own threads are not counted here: its executor pool is shared with the kubelet stand-in in
// this process, and the stand-in's client calls grow it under load. The plugin process alone, with
// every thread counted, is DevicePluginProcess.KubeletRestarts20TimesReRegisteredWithin1s...Flat.
TEST_F(PluginSupervisorTest, KubeletRestarts20TimesReRegisteredWithin1sOwnThreadsAndFdsFlat) {
  start_both();
  constexpr int kRestarts = 20;
  const auto own_threads = [] {
    auto names = test_support::threads_by_name();
    return std::make_pair(names["epc-dp-kubelet"], names["epc-dp-serve"]);
  };
  std::size_t baseline_fds = 0;
  for (int i = 1; i <= kRestarts; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(kubelet_.restart().ok());
    ASSERT_TRUE(kubelet_.wait_for_registrations(kEnclave, 1 + static_cast<std::size_t>(i), kWait))
        << "restart " << i << "\n"
        << log_text();
    ASSERT_TRUE(kubelet_.wait_for_registrations(kProvision, 1 + static_cast<std::size_t>(i), kWait))
        << "restart " << i << "\n"
        << log_text();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, test_support::scaled(1s))
        << "restart " << i << " took "
        << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
    // The new kubelet gets the full list on its new stream.
    ASSERT_TRUE(kubelet_.wait_for_devices(
        kEnclave, [](const auto& d) { return d.size() == 110 && all_health(d, "Healthy"); },
        kWait));
    const test_support::ProcessCounts settled =
        test_support::settled_counts(0, kSettleQuiet, kWait);
    if (i == 1) {
      baseline_fds = settled.fds;
    }
    EXPECT_EQ(settled.fds, baseline_fds) << "descriptors after restart " << i;
    EXPECT_EQ(own_threads(), std::make_pair(std::size_t{1}, std::size_t{2}))
        << "threads after restart " << i << ": " << test_support::describe_threads();
  }
  // Exactly one registration per restart and resource: no duplicate servers fighting.
  EXPECT_EQ(kubelet_.registration_count(kEnclave), 1U + kRestarts);
  EXPECT_EQ(kubelet_.registration_count(kProvision), 1U + kRestarts);
}

}  // namespace
}  // namespace epc::deviceplugin::kubelet
