// End to end: the real epc-extender binary, fed over gRPC like a device plugin, asked over HTTP
// like kube-scheduler. Filter answers must follow the reports.
#include <chrono>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "epc/v1/node_reports.grpc.pb.h"
#include "tools/http_client/http_client.h"
#include "tools/load/extender_process.h"

namespace epc::test {
namespace {

using tools::load::ExtenderProcess;

constexpr std::uint64_t kMi = 1 << 20;
constexpr char kNode[] = "node-e2e";
constexpr char kBinary[] = EPC_BINARY_DIR "/extender/epc-extender";

// kube-scheduler's filter call (cache mode) for a pod asking 64Mi EPC and one enclave slot.
const char kFilterBody[] = R"({"Pod":{"metadata":{"name":"big","namespace":"default","uid":"u-big"},
 "spec":{"containers":[{"name":"app","image":"x","resources":{
   "limits":{"sgx.intel.com/epc":"64Mi","sgx.intel.com/enclave":"1"},
   "requests":{"sgx.intel.com/epc":"64Mi","sgx.intel.com/enclave":"1"}}}]}},
 "Nodes":null,"NodeNames":["node-e2e"]})";

// Where the node ended up in a filter reply.
struct FilterVerdict {
  bool passed = false;
  std::string failed_reason;        // FailedNodes
  std::string unresolvable_reason;  // FailedAndUnresolvableNodes
  std::string error;
};

FilterVerdict filter(tools::http_client::HttpClient& http) {
  FilterVerdict verdict;
  auto response = http.post("/sgx/filter", kFilterBody);
  if (!response.ok()) {
    verdict.error = response.error().message;
    return verdict;
  }
  EXPECT_EQ(response->status, 200u);
  boost::system::error_code ec;
  const boost::json::value reply = boost::json::parse(response->body, ec);
  if (ec || !reply.is_object()) {
    verdict.error = "not JSON: " + response->body;
    return verdict;
  }
  const auto& object = reply.as_object();
  if (const auto* names = object.if_contains("NodeNames"); names && names->is_array()) {
    for (const auto& name : names->as_array()) {
      verdict.passed = verdict.passed || (name.is_string() && name.as_string() == kNode);
    }
  }
  const auto reason_in = [&](const char* key) -> std::string {
    const auto* map = object.if_contains(key);
    if (map == nullptr || !map->is_object()) {
      return {};
    }
    const auto* reason = map->as_object().if_contains(kNode);
    return reason != nullptr && reason->is_string() ? std::string(reason->as_string()) : "";
  };
  verdict.failed_reason = reason_in("FailedNodes");
  verdict.unresolvable_reason = reason_in("FailedAndUnresolvableNodes");
  if (const auto* error = object.if_contains("Error"); error && error->is_string()) {
    verdict.error = std::string(error->as_string());
  }
  return verdict;
}

epc::v1::NodeReport snapshot_report(const std::string& instance, std::uint64_t sequence) {
  epc::v1::NodeReport r;
  r.set_node_name(kNode);
  r.set_instance_id(instance);
  r.set_sequence(sequence);
  auto* s = r.mutable_snapshot();
  s->set_sgx_present(true);
  s->set_epc_capacity_bytes(128 * kMi);
  s->add_epc_sections()->set_size_bytes(128 * kMi);
  s->mutable_enclave_slots()->set_total(10);
  s->mutable_provision_slots()->set_total(10);
  s->mutable_health()->set_healthy(true);
  return r;
}

class Plugin {
 public:
  explicit Plugin(epc::v1::NodeReports::Stub& stub) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stream_ = stub.Stream(&context_);
  }
  epc::v1::Ack send(const epc::v1::NodeReport& report) {
    epc::v1::Ack ack;
    EXPECT_TRUE(stream_->Write(report));
    EXPECT_TRUE(stream_->Read(&ack));
    return ack;
  }
  grpc::Status close() {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<epc::v1::NodeReport, epc::v1::Ack>> stream_;
};

TEST(ExtenderEndToEnd, FilterFollowsTheReports) {
  auto started = ExtenderProcess::start(
      kBinary, {"--http-port", "0", "--grpc-address", "127.0.0.1:0", "--stale-after", "1s"},
      std::chrono::seconds(20));
  ASSERT_TRUE(started.ok()) << started.error().message;
  ExtenderProcess extender = std::move(started).value();

  tools::http_client::HttpClient http(static_cast<std::uint16_t>(extender.http_port()));
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(extender.grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = epc::v1::NodeReports::NewStub(channel);

  // 1. Nobody reported for the node: it cannot take the pod, and preemption cannot help.
  FilterVerdict verdict = filter(http);
  EXPECT_EQ(verdict.error, "");
  EXPECT_FALSE(verdict.passed);
  EXPECT_NE(verdict.unresolvable_reason, "");

  // 2. The plugin's snapshot: 128Mi EPC, all free. The Ack means it is visible to filter.
  auto plugin = std::make_unique<Plugin>(*stub);
  auto ack = plugin->send(snapshot_report("i1", 1));
  ASSERT_EQ(ack.error(), "");
  verdict = filter(http);
  EXPECT_TRUE(verdict.passed) << verdict.failed_reason << verdict.unresolvable_reason;

  // 3. A pod holding 100Mi lands on the node: 28Mi left, the 64Mi pod no longer fits, but
  //    preempting could help (FailedNodes, not unresolvable).
  epc::v1::NodeReport placed;
  placed.set_node_name(kNode);
  placed.set_instance_id("i1");
  placed.set_sequence(2);
  auto* holder = placed.mutable_change()->add_holders_upserted();
  holder->set_pod_namespace("default");
  holder->set_pod_name("first");
  holder->set_epc_known(true);
  holder->set_epc_bytes(100 * kMi);
  holder->set_enclave_slots(1);
  ack = plugin->send(placed);
  ASSERT_EQ(ack.error(), "");
  EXPECT_EQ(ack.applied_sequence(), 2u);
  verdict = filter(http);
  EXPECT_FALSE(verdict.passed);
  EXPECT_NE(verdict.failed_reason, "");
  EXPECT_EQ(verdict.unresolvable_reason, "");
  const std::string insufficient_reason = verdict.failed_reason;

  // The metrics show the same picture.
  auto metrics = http.get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error().message;
  EXPECT_NE(metrics->body.find("epc_node_requested_bytes{node=\"node-e2e\"} 104857600"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("epc_node_up{node=\"node-e2e\"} 1"), std::string::npos);

  // 4. The plugin goes away without heartbeats: after the 1 s staleness threshold the node is
  //    refused for its stale report instead.
  EXPECT_TRUE(plugin->close().ok());
  plugin.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    verdict = filter(http);
  } while (verdict.failed_reason == insufficient_reason &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_FALSE(verdict.passed);
  EXPECT_NE(verdict.failed_reason + verdict.unresolvable_reason, insufficient_reason);
  EXPECT_NE((verdict.failed_reason + verdict.unresolvable_reason).find("old"), std::string::npos)
      << verdict.failed_reason << " | " << verdict.unresolvable_reason;
  metrics = http.get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("epc_node_up{node=\"node-e2e\"} 0"), std::string::npos);

  // 5. The restarted plugin (new instance) reports a fresh snapshot without the old holder.
  Plugin restarted(*stub);
  ack = restarted.send(snapshot_report("i2", 1));
  ASSERT_EQ(ack.error(), "");
  verdict = filter(http);
  EXPECT_TRUE(verdict.passed) << verdict.failed_reason << verdict.unresolvable_reason;
  EXPECT_TRUE(restarted.close().ok());

  EXPECT_EQ(extender.terminate(std::chrono::seconds(10)), 0);
}

TEST(ExtenderEndToEnd, BadConfigExitsWithTwo) {
  auto started =
      ExtenderProcess::start(kBinary, {"--stale-after", "soon"}, std::chrono::seconds(20));
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("exited during startup with code 2"), std::string::npos)
      << started.error().message;
}

}  // namespace
}  // namespace epc::test
