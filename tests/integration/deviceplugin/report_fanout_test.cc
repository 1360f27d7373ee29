// The plugin's ReportFanout against two real extender reports servers (two "replicas" on the same
// port, one on 127.0.0.1 and one on ::1, as a headless Service gives one port on several
// addresses): every replica the name resolves to gets the node's reports, a replica that leaves
// the resolution loses its stream, one that joins gets the latest state, and a failed resolution
// changes nothing.
#include "deviceplugin/report/report_fanout.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "extender/config/extender_config.h"
#include "extender/reports/reports_server.h"
#include "extender/state/cluster_state.h"

namespace epc::deviceplugin::report {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kGiB = 1ULL << 30;
constexpr auto kWait = 10s;

NodeState node_state(std::uint32_t enclaves_used = 0) {
  NodeState s;
  s.sgx_present = true;
  s.epc_capacity_bytes = 64 * kGiB;
  s.epc_sections = {{0, 64 * kGiB}};
  s.enclave = {110, enclaves_used};
  s.provision = {110, 0};
  return s;
}

// One extender replica: its own state and reports server.
struct Replica {
  explicit Replica(const std::string& address) {
    config::ExtenderConfig config;
    config.grpc_address = address;
    auto created = reports::ReportsServer::create(config, *state);
    if (created.ok()) {
      server = std::move(created).value();
    } else {
      error = created.error().message;
    }
  }
  // The replica's row of node-a once `predicate` holds (false after kWait).
  template <typename Predicate>
  bool row_becomes(Predicate predicate) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      state->flush();
      auto snap = state->snapshot();
      if (auto index = snap->find("node-a"); index && predicate(snap->row(*index))) {
        return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  bool stream_connected() {
    state->flush();
    auto snap = state->snapshot();
    auto index = snap->find("node-a");
    return index && snap->info(*index).stream_connected;
  }

  std::unique_ptr<state::ClusterState> state = state::ClusterState::create({});
  std::unique_ptr<reports::ReportsServer> server;
  std::string error;
};

class ReportFanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v4_ = std::make_unique<Replica>("127.0.0.1:0");
    ASSERT_TRUE(v4_->error.empty()) << v4_->error;
    port_ = std::to_string(v4_->server->port());
    v6_ = std::make_unique<Replica>("[::1]:" + port_);
    if (!v6_->error.empty()) {
      GTEST_FAIL() << "cannot listen on [::1]:" << port_ << " (" << v6_->error
                   << "): this test needs IPv6 loopback";
    }
  }

  std::unique_ptr<ReportFanout> start(bool every_address) {
    ReportFanout::Options options;
    options.stream.target = "extender-reports.sgx-system.svc:" + port_;
    options.stream.node_name = "node-a";
    options.stream.instance_id = ReportStream::new_instance_id();
    options.stream.plugin_version = "test";
    options.stream.heartbeat = 200ms;
    options.stream.backoff_initial = 20ms;
    options.stream.backoff_max = 200ms;
    options.every_address = every_address;
    options.resolve_period = 50ms;
    options.resolve = [this](const std::string& host,
                             const std::string& port) -> common::Result<std::vector<std::string>> {
      std::lock_guard lock(mutex_);
      asked_host_ = host;
      EXPECT_EQ(port, port_);
      if (!resolvable_) {
        return common::Error{"no such host"};
      }
      return addresses_;
    };
    auto created = ReportFanout::create(std::move(options), node_state());
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? std::move(created).value() : nullptr;
  }

  void resolve_to(std::vector<std::string> addresses, bool resolvable = true) {
    std::lock_guard lock(mutex_);
    addresses_ = std::move(addresses);
    resolvable_ = resolvable;
  }

  std::vector<std::string> targets(const ReportFanout& fanout) {
    std::vector<std::string> out;
    for (const auto& [target, stats] : fanout.stats()) {
      out.push_back(target);
    }
    return out;
  }

  std::unique_ptr<Replica> v4_;
  std::unique_ptr<Replica> v6_;
  std::string port_;
  std::mutex mutex_;
  std::vector<std::string> addresses_;
  bool resolvable_ = true;
  std::string asked_host_;
};

const auto kReported = [](const core::NodeRow& r) { return r.ever_reported && r.has_sgx; };

TEST_F(ReportFanoutTest, EveryReplicaGetsTheReportsAndUpdates) {
  resolve_to({"127.0.0.1:" + port_, "[::1]:" + port_});
  auto fanout = start(/*every_address=*/true);
  ASSERT_NE(fanout, nullptr);
  EXPECT_TRUE(v4_->row_becomes(kReported));
  EXPECT_TRUE(v6_->row_becomes(kReported));
  fanout->update(node_state(/*enclaves_used=*/7));
  const auto seven = [](const core::NodeRow& r) { return r.enclave_slots_used == 7; };
  EXPECT_TRUE(v4_->row_becomes(seven));
  EXPECT_TRUE(v6_->row_becomes(seven));
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(asked_host_, "extender-reports.sgx-system.svc");
  }
  // The snapshot and the change at least, per stream. A stream counts a message once its Write
  // returned, which may be after the replica applied it: wait for the count too.
  const auto both_sent_two = [&] {
    const auto stats = fanout->stats();
    return stats.size() == 2U && std::all_of(stats.begin(), stats.end(), [](const auto& entry) {
             return entry.second.messages_sent >= 2U;
           });
  };
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!both_sent_two() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(both_sent_two());
}

TEST_F(ReportFanoutTest, AReplicaThatLeavesLosesItsStreamAndOneThatJoinsGetsTheLatestState) {
  resolve_to({"127.0.0.1:" + port_});
  auto fanout = start(/*every_address=*/true);
  ASSERT_NE(fanout, nullptr);
  ASSERT_TRUE(v4_->row_becomes(kReported));
  fanout->update(node_state(3));
  ASSERT_TRUE(v4_->row_becomes([](const core::NodeRow& r) { return r.enclave_slots_used == 3; }));

  // The second replica appears: it starts from the node's latest state, not the initial one.
  resolve_to({"127.0.0.1:" + port_, "[::1]:" + port_});
  EXPECT_TRUE(v6_->row_becomes([](const core::NodeRow& r) { return r.enclave_slots_used == 3; }));

  // The first one leaves the Service: its stream is closed, the other keeps reporting.
  resolve_to({"[::1]:" + port_});
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (v4_->stream_connected() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(v4_->stream_connected());
  EXPECT_EQ(targets(*fanout), std::vector<std::string>{"[::1]:" + port_});
  fanout->update(node_state(4));
  EXPECT_TRUE(v6_->row_becomes([](const core::NodeRow& r) { return r.enclave_slots_used == 4; }));
}

TEST_F(ReportFanoutTest, AFailedResolutionKeepsTheStreams) {
  resolve_to({"127.0.0.1:" + port_, "[::1]:" + port_});
  auto fanout = start(/*every_address=*/true);
  ASSERT_NE(fanout, nullptr);
  ASSERT_TRUE(v4_->row_becomes(kReported));
  ASSERT_TRUE(v6_->row_becomes(kReported));
  resolve_to({}, /*resolvable=*/false);
  std::this_thread::sleep_for(200ms);  // four resolution periods
  EXPECT_EQ(targets(*fanout).size(), 2U);
  resolve_to({});  // resolvable, but no address: the same
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(targets(*fanout).size(), 2U);
  fanout->update(node_state(9));
  EXPECT_TRUE(v4_->row_becomes([](const core::NodeRow& r) { return r.enclave_slots_used == 9; }));
  EXPECT_TRUE(v6_->row_becomes([](const core::NodeRow& r) { return r.enclave_slots_used == 9; }));
}

TEST_F(ReportFanoutTest, WithoutEveryAddressTheTargetIsUsedAsGiven) {
  ReportFanout::Options options;
  options.stream.target = "127.0.0.1:" + port_;
  options.stream.node_name = "node-a";
  options.stream.instance_id = ReportStream::new_instance_id();
  options.stream.backoff_initial = 20ms;
  options.stream.backoff_max = 200ms;
  options.resolve = [](const std::string&,
                       const std::string&) -> common::Result<std::vector<std::string>> {
    ADD_FAILURE() << "resolved without every_address";
    return std::vector<std::string>{};
  };
  auto fanout = ReportFanout::create(std::move(options), node_state());
  ASSERT_TRUE(fanout.ok()) << fanout.error().message;
  EXPECT_TRUE(v4_->row_becomes(kReported));
  EXPECT_EQ(targets(**fanout), std::vector<std::string>{"127.0.0.1:" + port_});
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(v6_->stream_connected());
}

TEST(ReportFanoutResolve, GetaddrinfoGivesEveryAddressOnceAndBadTargetsAreErrors) {
  auto localhost = ReportFanout::resolve_with_getaddrinfo("127.0.0.1", "9090");
  ASSERT_TRUE(localhost.ok()) << localhost.error().message;
  EXPECT_EQ(*localhost, std::vector<std::string>{"127.0.0.1:9090"});
  auto v6 = ReportFanout::resolve_with_getaddrinfo("::1", "9090");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(*v6, std::vector<std::string>{"[::1]:9090"});

  ReportFanout::Options options;
  options.stream.target = "no-port";
  options.stream.node_name = "node-a";
  options.stream.instance_id = "0000000000000001";
  EXPECT_FALSE(ReportFanout::create(options, node_state()).ok());
  options.stream.target = "host:9090";
  options.every_address = true;
  options.stream.node_name.clear();
  EXPECT_FALSE(ReportFanout::create(options, node_state()).ok());
}

}  // namespace
}  // namespace epc::deviceplugin::report
