#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/config/extender_config.h"
#include "extender/http/server.h"
#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"
#include "tools/epcctl/capacity_command.h"
#include "tools/epcctl/epcctl_options.h"
#include "tools/epcctl/snapshot_command.h"
#include "tools/http_client/http_client.h"
#include "tools/sim/generic_reader.h"

namespace epc::tools::epcctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kMi = 1024 * 1024;

state::ReportMessage report(std::string node, std::int64_t epc_mi, std::int64_t slots_used) {
  state::NodeState full;
  full.sgx_present = true;
  full.epc_capacity_bytes = epc_mi * kMi;
  full.epc_sections = {{0, epc_mi * kMi}};
  full.enclave_slots = {20, slots_used};
  full.provision_slots = {20, 0};
  state::ReportMessage message;
  message.node_name = std::move(node);
  message.instance_id = "instance-1";
  message.sequence = 1;
  message.plugin_version = "test";
  message.body = std::move(full);
  return message;
}

class EpcctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = state::ClusterState::create({});
    metrics_ = metrics::Metrics::create();
    // 1Gi with every slot free, 512Mi with 2 slots left, 256Mi with none (its EPC is stranded).
    ASSERT_TRUE(state_->apply(report("sgx-big", 1024, 0)).ok());
    ASSERT_TRUE(state_->apply(report("sgx-mid", 512, 18)).ok());
    ASSERT_TRUE(state_->apply(report("sgx-full", 256, 20)).ok());
    config_.http_address = "127.0.0.1";
    config_.http_port = 0;
    auto server = http::HttpServer::create(config_, *state_, *metrics_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
    server_->start();
  }

  EpcctlOptions options(std::vector<std::string> args) {
    args.insert(args.begin(), {"capacity", "--extender", "127.0.0.1:" + std::to_string(port())});
    auto parsed = parse_epcctl_options(args);
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    return parsed.ok() ? parsed.value() : EpcctlOptions{};
  }
  std::uint16_t port() const { return server_->port(); }

  config::ExtenderConfig config_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(EpcctlTest, the_standard_shapes_in_one_table) {
  http_client::HttpClient client(port());
  auto report = capacity_report(client, options({}));
  ASSERT_TRUE(report.ok()) << report.error().message;
  // 64Mi: 16 on sgx-big (slots 20), 2 on sgx-mid; sgx-full strands its 256Mi.
  EXPECT_THAT(*report, HasSubstr("shape (EPC, enclaves)"));
  EXPECT_THAT(*report, testing::ContainsRegex("64Mi, 1 +18 +2 +256Mi"));
  // 256Mi: 4 + 2; 1Gi: only sgx-big (1), the others strand 512 + 256; 4Gi: nothing fits.
  EXPECT_THAT(*report, testing::ContainsRegex("256Mi, 1 +6 +2 +256Mi"));
  EXPECT_THAT(*report, testing::ContainsRegex("1Gi, 1 +1 +1 +768Mi"));
  EXPECT_THAT(*report, testing::ContainsRegex("4Gi, 1 +0 +0 +1.75Gi"));
  EXPECT_THAT(*report, Not(HasSubstr("free EPC")));  // no node list for several shapes
}

TEST_F(EpcctlTest, one_shape_lists_the_nodes_with_the_most_room) {
  http_client::HttpClient client(port());
  auto report = capacity_report(client, options({"--epc", "128Mi", "--top", "1"}));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_THAT(*report, testing::ContainsRegex("128Mi, 1 +10 +2 +256Mi"));
  EXPECT_THAT(*report, testing::ContainsRegex("sgx-big +8 +1Gi"));
  EXPECT_THAT(*report, Not(HasSubstr("sgx-mid ")));
  EXPECT_THAT(*report, HasSubstr("(1 more nodes with room)"));
}

TEST_F(EpcctlTest, a_refusal_or_no_extender_is_an_error_naming_why) {
  http_client::HttpClient client(port());
  auto refused =
      capacity_report(client, options({"--epc", "64Mi", "--enclaves", "0", "--provision", "0"}));
  ASSERT_TRUE(refused.ok()) << refused.error().message;  // EPC alone is a shape
  server_->stop();
  http_client::HttpClient nobody(port());
  auto gone = capacity_report(nobody, options({}));
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.error().message, HasSubstr("asking the extender at 127.0.0.1:"));
}

// The snapshot is epc-sim input that epc-sim's own reader takes, and says what the extender has.
TEST_F(EpcctlTest, snapshot_is_the_extenders_state_as_epc_sim_input) {
  // A node running three pods (EPC known from the plugin) and one without SGX.
  state::ReportMessage busy = report("sgx-busy", 2048, 3);
  auto& holders = std::get<state::NodeState>(busy.body).holders;
  holders.push_back({{"shop/web-1", "u1"}, 256 * kMi, 1, 0});
  holders.push_back({{"shop/web-2", "u2"}, 256 * kMi, 1, 0});
  holders.push_back({{"shop/db", "u3"}, 1024 * kMi, 1, 1});
  ASSERT_TRUE(state_->apply(busy).ok());
  state::ReportMessage cpu_only = report("cpu-only", 0, 0);
  std::get<state::NodeState>(cpu_only.body).sgx_present = false;
  ASSERT_TRUE(state_->apply(cpu_only).ok());
  state_->flush();

  http_client::HttpClient client(port());
  auto parsed =
      parse_epcctl_options({"snapshot", "--extender", "127.0.0.1:" + std::to_string(port()),
                            "--node-cpu", "32", "--node-memory", "256Gi"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto yaml = snapshot_yaml(client, *parsed, "2026-12-04T19:00:00Z");
  ASSERT_TRUE(yaml.ok()) << yaml.error().message;
  EXPECT_THAT(*yaml, HasSubstr("at 2026-12-04T19:00:00Z"));
  EXPECT_THAT(*yaml, HasSubstr("#   cpu-only: "));               // left out, and said why
  EXPECT_THAT(*yaml, HasSubstr("epc-sim does not model them"));  // db's provision slot

  auto trace = sim::read_generic_yaml(*yaml, "snapshot");
  ASSERT_TRUE(trace.ok()) << trace.error().message << "\n" << *yaml;
  ASSERT_EQ(trace->nodes.size(), 4U);  // sgx-big, sgx-mid, sgx-full, sgx-busy
  const auto node = [&](const std::string& name) -> const sim::SimNode& {
    for (const sim::SimNode& n : trace->nodes) {
      if (n.name == name) {
        return n;
      }
    }
    ADD_FAILURE() << "no node " << name;
    return trace->nodes.front();
  };
  EXPECT_EQ(node("sgx-busy").epc_bytes, 2048 * kMi);
  EXPECT_EQ(node("sgx-busy").epc_used_bytes, (256 + 256 + 1024) * kMi);
  EXPECT_EQ(node("sgx-busy").enclave_slots, 20);
  EXPECT_EQ(node("sgx-busy").enclave_slots_used, 3);
  EXPECT_EQ(node("sgx-busy").pods_used, 3);
  EXPECT_EQ(node("sgx-busy").cpu_milli, 32'000);
  EXPECT_EQ(node("sgx-busy").memory_bytes, std::int64_t{256} << 30);
  EXPECT_EQ(node("sgx-mid").epc_used_bytes, 0);  // slots used by pods the extender never saw
  EXPECT_EQ(node("sgx-mid").enclave_slots_used, 18);
  EXPECT_EQ(node("sgx-full").enclave_slots_used, 20);

  // The mix: two 256Mi pods, one 1Gi pod.
  std::int64_t small = 0;
  std::int64_t large = 0;
  for (const sim::SimPod& pod : trace->pods) {
    EXPECT_EQ(pod.enclave_slots, 1);
    EXPECT_EQ(pod.cpu_milli, 100);
    small += pod.epc_bytes == 256 * kMi ? 1 : 0;
    large += pod.epc_bytes == 1024 * kMi ? 1 : 0;
  }
  EXPECT_EQ(small, 2);
  EXPECT_EQ(large, 1);
  EXPECT_EQ(trace->pods.size(), 3U);
}

TEST_F(EpcctlTest, snapshot_of_a_cluster_without_sgx_pods_uses_the_standard_shapes) {
  http_client::HttpClient client(port());
  auto parsed =
      parse_epcctl_options({"snapshot", "--extender", "127.0.0.1:" + std::to_string(port())});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto yaml = snapshot_yaml(client, *parsed, "now");
  ASSERT_TRUE(yaml.ok()) << yaml.error().message;
  auto trace = sim::read_generic_yaml(*yaml, "snapshot");
  ASSERT_TRUE(trace.ok()) << trace.error().message << "\n" << *yaml;
  ASSERT_EQ(trace->pods.size(), 4U);
  EXPECT_EQ(trace->pods[0].epc_bytes, 64 * kMi);
  EXPECT_EQ(trace->pods[3].epc_bytes, 4096 * kMi);

  server_->stop();
  http_client::HttpClient nobody(port());
  auto gone = snapshot_yaml(nobody, *parsed, "now");
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.error().message, HasSubstr("asking the extender at 127.0.0.1:"));
}

TEST(EpcctlOptionsTest, flags_parse_and_errors_name_the_flag) {
  auto parsed = parse_epcctl_options(
      {"capacity", "--extender", "10.0.0.5:9999", "--epc", "512Mi,2Gi", "--enclaves", "2"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->host, "10.0.0.5");
  EXPECT_EQ(parsed->port, 9999);
  EXPECT_EQ(parsed->epc_bytes, (std::vector<std::int64_t>{512 * kMi, 2048 * kMi}));
  EXPECT_EQ(parsed->enclaves, 2);
  EXPECT_EQ(parse_epcctl_options({"capacity"})->epc_bytes.size(), 4U);
  EXPECT_THAT(parse_epcctl_options({"capacity", "--epc", "lots"}).error().message,
              HasSubstr("--epc"));
  EXPECT_THAT(parse_epcctl_options({"capacity", "--extender", "nowhere"}).error().message,
              HasSubstr("--extender"));
  EXPECT_FALSE(parse_epcctl_options({}).ok());
  EXPECT_FALSE(parse_epcctl_options({"frobnicate"}).ok());
  EXPECT_TRUE(parse_epcctl_options({"--help"})->help);

  auto snapshot = parse_epcctl_options(
      {"snapshot", "--pod-cpu", "250m", "--pod-memory", "1Gi", "--output", "/tmp/x.yaml"});
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
  EXPECT_EQ(snapshot->command, Command::kSnapshot);
  EXPECT_EQ(snapshot->pod_cpu_milli, 250);
  EXPECT_EQ(snapshot->pod_memory_bytes, 1024 * kMi);
  EXPECT_EQ(snapshot->output, "/tmp/x.yaml");

  auto https = parse_epcctl_options({"capacity", "--ca-file", "/etc/ca.crt", "--server-name",
                                     "epc-extender-metrics.sgx-system.svc"});
  ASSERT_TRUE(https.ok()) << https.error().message;
  EXPECT_EQ(https->ca_file, "/etc/ca.crt");
  EXPECT_EQ(https->server_name, "epc-extender-metrics.sgx-system.svc");
  EXPECT_THAT(parse_epcctl_options({"capacity", "--ca-file", ""}).error().message,
              HasSubstr("--ca-file"));
  EXPECT_THAT(parse_epcctl_options({"snapshot", "--node-cpu", "0"}).error().message,
              HasSubstr("--node-cpu"));
  // Each command's flags belong to it.
  EXPECT_THAT(parse_epcctl_options({"snapshot", "--epc", "1Gi"}).error().message,
              HasSubstr("not for this command"));
  EXPECT_THAT(parse_epcctl_options({"capacity", "--output", "x"}).error().message,
              HasSubstr("not for this command"));
}

}  // namespace
}  // namespace epc::tools::epcctl
