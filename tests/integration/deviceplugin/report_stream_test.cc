// The plugin's ReportStream against the extender's real NodeReports server and ClusterState:
// snapshots arrive and change the extender's state, the extender restarting or being away never
// blocks update(), and the stream comes back by itself.
#include "deviceplugin/report/report_stream.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "extender/config/extender_config.h"
#include "extender/reports/reports_server.h"
#include "extender/state/cluster_state.h"

namespace epc::deviceplugin::report {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kGiB = 1ULL << 30;
constexpr auto kWait = 10s;

NodeState node_state() {
  NodeState s;
  s.sgx_present = true;
  s.epc_capacity_bytes = 128 * kGiB;
  s.epc_sections = {{0, 64 * kGiB}, {1, 64 * kGiB}};
  s.enclave = {110, 0};
  s.provision = {110, 0};
  return s;
}

class ReportStreamTest : public ::testing::Test {
 protected:
  void start_extender(int port = 0) {
    config::ExtenderConfig config;
    config.grpc_address = "127.0.0.1:" + std::to_string(port);
    auto server = reports::ReportsServer::create(config, *state_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }

  void start_stream(int port, std::chrono::milliseconds heartbeat = 10s) {
    ReportStream::Options options;
    options.target = "127.0.0.1:" + std::to_string(port);
    options.node_name = "node-a";
    options.instance_id = ReportStream::new_instance_id();
    options.plugin_version = "test";
    options.heartbeat = heartbeat;
    options.backoff_initial = 20ms;
    options.backoff_max = 200ms;
    auto stream = ReportStream::create(options, node_state());
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    stream_ = std::move(stream).value();
  }

  // The extender's row for node-a once `predicate` holds.
  template <typename Predicate>
  std::optional<core::NodeRow> wait_row(Predicate predicate) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      state_->flush();
      auto snap = state_->snapshot();
      if (auto index = snap->find("node-a")) {
        const core::NodeRow row = snap->row(*index);
        if (predicate(row)) {
          return row;
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }

  std::unique_ptr<state::ClusterState> state_ = state::ClusterState::create({});
  std::unique_ptr<reports::ReportsServer> server_;
  std::unique_ptr<ReportStream> stream_;
};

TEST_F(ReportStreamTest, SnapshotOnConnectThenChanges) {
  start_extender();
  start_stream(server_->port());
  auto row = wait_row([](const core::NodeRow& r) { return r.ever_reported; });
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->has_sgx);
  EXPECT_EQ(row->epc_capacity_bytes, static_cast<std::int64_t>(128 * kGiB));
  EXPECT_EQ(row->epc_section_count, 2);
  EXPECT_EQ(row->enclave_slots_total, 110);

  NodeState changed = node_state();
  changed.enclave.used = 3;
  changed.holders = {{"shop", "web", 3, 0}};
  stream_->update(changed);
  row = wait_row([](const core::NodeRow& r) { return r.enclave_slots_used == 3; });
  ASSERT_TRUE(row.has_value());
  // The Ack for the second snapshot follows its application (it may trail the state a moment).
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (stream_->acked_sequence() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_GE(stream_->acked_sequence(), 2U);

  changed.healthy = false;
  changed.health_reason = "/dev/sgx_enclave missing";
  stream_->update(changed);
  EXPECT_TRUE(wait_row([](const core::NodeRow& r) {
                return r.health == core::NodeHealth::kUnhealthy;
              }).has_value());
}

// After the snapshot only NodeChanges go out: holders appearing, changing and going away must
// leave the extender with exactly the plugin's holders (the extender merges changes).
TEST_F(ReportStreamTest, ChangesAddAndRemoveHoldersInTheExtender) {
  start_extender();
  start_stream(server_->port());
  ASSERT_TRUE(wait_row([](const core::NodeRow& r) { return r.ever_reported; }).has_value());
  const auto ledger_pods = [&]() -> std::int64_t {
    auto snap = state_->snapshot();
    auto index = snap->find("node-a");
    return index ? snap->info(*index).ledger_pods : -1;
  };
  NodeState changed = node_state();
  changed.holders = {{"a", "one", 1, 0}, {"b", "two", 2, 1}, {"c", "three", 1, 0}};
  changed.enclave.used = 4;
  changed.provision.used = 1;
  stream_->update(changed);
  ASSERT_TRUE(wait_row([&](const core::NodeRow& r) {
                return r.enclave_slots_used == 4 && ledger_pods() == 3;
              }).has_value());

  changed.holders = {{"b", "two", 2, 1}, {"d", "four", 3, 0}};  // one, three gone; four new
  changed.enclave.used = 5;
  stream_->update(changed);
  ASSERT_TRUE(wait_row([&](const core::NodeRow& r) {
                return r.enclave_slots_used == 5 && ledger_pods() == 2;
              }).has_value());

  changed.holders.clear();
  changed.enclave.used = 0;
  changed.provision.used = 0;
  changed.live_epc_known = true;
  changed.live_epc_used_bytes = 3 * kGiB;
  stream_->update(changed);
  auto row = wait_row([&](const core::NodeRow& r) {
    return r.enclave_slots_used == 0 && r.provision_slots_used == 0 && ledger_pods() == 0;
  });
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->live_used_known);
  EXPECT_EQ(row->epc_live_used_bytes, static_cast<std::int64_t>(3 * kGiB));
  EXPECT_EQ(row->epc_capacity_bytes, static_cast<std::int64_t>(128 * kGiB));  // from the snapshot
  EXPECT_EQ(stream_->connections(), 1U);
}

TEST_F(ReportStreamTest, HeartbeatsWhenNothingChanges) {
  start_extender();
  start_stream(server_->port(), 20ms);
  ASSERT_TRUE(wait_row([](const core::NodeRow& r) { return r.ever_reported; }).has_value());
  // Sequences keep being acknowledged with no update(): heartbeats.
  const std::uint64_t first = stream_->acked_sequence();
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (stream_->acked_sequence() < first + 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(stream_->acked_sequence(), first + 3);
}

TEST_F(ReportStreamTest, ExtenderAwayNeverBlocksUpdatesAndStreamComesBack) {
  start_extender();
  const int port = server_->port();
  start_stream(port);
  ASSERT_TRUE(wait_row([](const core::NodeRow& r) { return r.ever_reported; }).has_value());

  server_->shutdown();  // extender gone
  server_.reset();
  NodeState changed = node_state();
  for (std::uint32_t used = 1; used <= 50; ++used) {
    changed.enclave.used = used;
    stream_->update(changed);  // returns at once: nothing to wait for
  }
  start_extender(port);  // back on the same port (a restarted extender)
  auto row = wait_row([](const core::NodeRow& r) { return r.enclave_slots_used == 50; });
  ASSERT_TRUE(row.has_value()) << "the latest state is sent after reconnecting";
  EXPECT_GE(stream_->connections(), 2U);
}

TEST_F(ReportStreamTest, StopWhileExtenderUnreachableReturnsPromptly) {
  // Nothing listens on this port (bound then released by a short-lived server).
  start_extender();
  const int port = server_->port();
  server_.reset();
  start_stream(port);
  std::this_thread::sleep_for(100ms);
  stream_->update(node_state());
  const auto start = std::chrono::steady_clock::now();
  stream_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(stream_->connections(), 0U);
}

TEST(ReportStreamCreate, RefusesIncompleteOptions) {
  ReportStream::Options options;
  options.target = "127.0.0.1:1";
  options.node_name = "n";
  EXPECT_FALSE(ReportStream::create(options, {}).ok());  // no instance id
  options.instance_id = "i";
  options.backoff_max = std::chrono::milliseconds(1);
  EXPECT_FALSE(ReportStream::create(options, {}).ok());  // max < initial
}

TEST(ReportStreamInstanceId, SixteenHexDigitsAndFresh) {
  const std::string a = ReportStream::new_instance_id();
  const std::string b = ReportStream::new_instance_id();
  EXPECT_EQ(a.size(), 16U);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace epc::deviceplugin::report
