// Node identity on the report stream (grpc.auth token and mtls), end to end over real TLS on
// loopback: the extender's ReportsServer with TLS, kube-apiserver's TokenReview answered by the
// API server stand-in over HTTPS, and plugins that are real gRPC clients (raw streams and the
// device plugin's own ReportStream). A report for another node than the credential proves must be
// refused with a clear Ack error, counted, and change nothing else.
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "deviceplugin/report/report_stream.h"
#include "epc/v1/node_reports.grpc.pb.h"
#include "extender/kube/kube_config.h"
#include "extender/kube/rest_client.h"
#include "extender/kube/token_review.h"
#include "extender/reports/reports_server.h"
#include "extender/state/cluster_state.h"
#include "tools/standins/api_server_standin.h"
#include "tools/standins/temp_dir.h"
#include "tools/standins/test_certificates.h"

namespace epc::reports {
namespace {

using namespace std::chrono_literals;
using ClientStream = grpc::ClientReaderWriter<epc::v1::NodeReport, epc::v1::Ack>;
namespace standins = tools::standins;
using standins::ApiServerStandin;
using standins::ServiceAccountTokenSpec;
using standins::TempDir;
using standins::TestCertificates;

constexpr std::uint64_t kMi = 1 << 20;

epc::v1::NodeReport snapshot_report(const std::string& node, std::uint64_t sequence) {
  epc::v1::NodeReport r;
  r.set_node_name(node);
  r.set_instance_id("0123456789abcdef");
  r.set_sequence(sequence);
  r.set_plugin_version("test");
  auto* s = r.mutable_snapshot();
  s->set_sgx_present(true);
  s->set_epc_capacity_bytes(128 * kMi);
  s->mutable_enclave_slots()->set_total(110);
  s->mutable_provision_slots()->set_total(110);
  s->mutable_health()->set_healthy(true);
  return r;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class NodeIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.status().ok());
    // The extender's report port certificate (for 127.0.0.1), and a client certificate in the
    // kubelet convention for the mTLS tests.
    standins::TestCertificateOptions node_client;
    node_client.client_common_name = "system:node:node-a";
    node_client.client_organization = "system:nodes";
    auto certs = standins::make_test_certificates(node_client);
    ASSERT_TRUE(certs.ok()) << certs.error().message;
    certs_ = std::move(certs).value();
    ASSERT_TRUE(standins::write_test_certificates(certs_, dir_.path()).ok());

    auto api = ApiServerStandin::start();
    ASSERT_TRUE(api.ok()) << api.error().message;
    api_ = std::move(api).value();
    const std::string kubeconfig = dir_.file("kubeconfig");
    ASSERT_TRUE(api_->write_kubeconfig(kubeconfig, standins::KubeconfigUser::kAdminToken).ok());
    kube_ = kubeconfig;
  }

  std::shared_ptr<kube::TokenReviewer> reviewer() {
    auto config = kube::load_kubeconfig(kube_);
    EXPECT_TRUE(config.ok()) << config.error().message;
    auto client = kube::RestClient::create(*config, {});
    EXPECT_TRUE(client.ok()) << client.error().message;
    return std::make_shared<kube::ApiTokenReviewer>(std::move(client).value(), "epc-extender");
  }

  void start(config::ExtenderConfig::GrpcAuth auth) {
    config::ExtenderConfig config;
    config.grpc_address = "127.0.0.1:0";
    config.grpc_tls_cert_file = dir_.file("server.crt");
    config.grpc_tls_key_file = dir_.file("server.key");
    config.grpc_auth = auth;
    if (auth == config::ExtenderConfig::GrpcAuth::kMtls) {
      config.grpc_tls_client_ca_file = dir_.file("ca.crt");
    }
    ReportsServer::Hooks hooks;
    hooks.refusal_observer = [this](metrics::ReportRefusal reason) {
      ++refusals_[static_cast<std::size_t>(reason)];
    };
    if (auth == config::ExtenderConfig::GrpcAuth::kToken) {
      hooks.reviewer = reviewer();
    }
    auto server = ReportsServer::create(config, *state_, std::move(hooks));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  std::unique_ptr<epc::v1::NodeReports::Stub> stub(bool client_certificate = false) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = certs_.ca_cert_pem;
    if (client_certificate) {
      ssl.pem_cert_chain = certs_.client_cert_pem;
      ssl.pem_private_key = certs_.client_key_pem;
    }
    return epc::v1::NodeReports::NewStub(grpc::CreateChannel(target(), grpc::SslCredentials(ssl)));
  }

  struct Stream {
    std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
    std::unique_ptr<epc::v1::NodeReports::Stub> stub;
    std::unique_ptr<ClientStream> rw;
  };

  Stream open(const std::string& token, bool client_certificate = false) {
    Stream s;
    s.context->set_deadline(std::chrono::system_clock::now() + 30s);
    if (!token.empty()) {
      s.context->AddMetadata("authorization", "Bearer " + token);
    }
    s.stub = stub(client_certificate);
    s.rw = s.stub->Stream(s.context.get());
    return s;
  }

  // Writes one report and reads its Ack; nullopt when the stream ended instead.
  static std::optional<epc::v1::Ack> send(Stream& s, const epc::v1::NodeReport& report) {
    if (!s.rw->Write(report)) {
      return std::nullopt;
    }
    epc::v1::Ack ack;
    if (!s.rw->Read(&ack)) {
      return std::nullopt;
    }
    return ack;
  }

  // The status a refused stream ends with.
  static grpc::Status refused(Stream& s, const std::string& node) {
    s.rw->Write(snapshot_report(node, 1));
    epc::v1::Ack ack;
    EXPECT_FALSE(s.rw->Read(&ack)) << "a refused stream must not acknowledge anything";
    s.rw->WritesDone();
    return s.rw->Finish();
  }

  bool known(const std::string& node) {
    state_->flush();
    return state_->snapshot()->find(node).has_value();
  }

  std::uint64_t refusals(metrics::ReportRefusal reason) const {
    return refusals_[static_cast<std::size_t>(reason)].load();
  }

  std::string token_for(const std::string& node) {
    return token_for(node, ServiceAccountTokenSpec{});
  }
  std::string token_for(const std::string& node, ServiceAccountTokenSpec spec) {
    spec.node_name = node;
    if (spec.pod_name.empty()) {
      spec.pod_name = "epc-device-plugin-" + node;
    }
    return api_->issue_service_account_token(spec);
  }

  // As the DaemonSet runs the plugin: the CA file and node-a's token file.
  deviceplugin::report::ReportStream::Options plugin_options(const std::string& node) {
    deviceplugin::report::ReportStream::Options options;
    options.target = target();
    options.tls.ca_file = dir_.file("ca.crt");
    options.tls.token_file = dir_.file("token-a");
    options.node_name = node;
    options.instance_id = node == "node-a" ? "aaaaaaaaaaaaaaaa" : "bbbbbbbbbbbbbbbb";
    options.plugin_version = "test";
    options.heartbeat = 200ms;
    options.backoff_initial = 50ms;
    return options;
  }

  TempDir dir_{"epc-identity"};
  TestCertificates certs_;
  std::unique_ptr<ApiServerStandin> api_;
  std::string kube_;
  std::unique_ptr<state::ClusterState> state_ = state::ClusterState::create({});
  std::unique_ptr<ReportsServer> server_;
  std::array<std::atomic<std::uint64_t>, metrics::kReportRefusalCount> refusals_{};
};

TEST_F(NodeIdentityTest, TokenBindsTheStreamToItsNodeAndAForgedReportIsRefused) {
  start(config::ExtenderConfig::GrpcAuth::kToken);
  Stream s = open(token_for("node-a"));

  // The plugin of node-a claims node-b has 128 MiB free: refused, named, counted.
  auto forged = send(s, snapshot_report("node-b", 1));
  ASSERT_TRUE(forged.has_value());
  EXPECT_NE(forged->error().find("report for node node-b refused"), std::string::npos)
      << forged->error();
  EXPECT_NE(forged->error().find("authenticated as node node-a"), std::string::npos)
      << forged->error();
  EXPECT_EQ(refusals(metrics::ReportRefusal::kWrongNode), 1u);
  EXPECT_FALSE(known("node-b"));

  // Nothing else on the stream changed: its own node's report is applied.
  auto own = send(s, snapshot_report("node-a", 2));
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(own->error().empty()) << own->error();
  EXPECT_EQ(own->applied_sequence(), 2u);
  EXPECT_TRUE(known("node-a"));
  EXPECT_FALSE(known("node-b"));
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());
}

TEST_F(NodeIdentityTest, StreamsWithoutAGoodTokenAreRefusedBeforeAnyReport) {
  start(config::ExtenderConfig::GrpcAuth::kToken);

  Stream none = open("");
  const grpc::Status no_token = refused(none, "node-a");
  EXPECT_EQ(no_token.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(no_token.error_message().find("no bearer token"), std::string::npos);
  EXPECT_EQ(refusals(metrics::ReportRefusal::kNoCredentials), 1u);

  // A token the API server never issued (one payload character changed).
  std::string forged = token_for("node-a");
  const std::size_t dot = forged.find('.');
  forged[dot + 5] = forged[dot + 5] == 'A' ? 'B' : 'A';
  Stream bad = open(forged);
  const grpc::Status forged_status = refused(bad, "node-a");
  EXPECT_EQ(forged_status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(forged_status.error_message().find("token refused by kube-apiserver"),
            std::string::npos)
      << forged_status.error_message();

  // Issued for another audience (the API server's own).
  ServiceAccountTokenSpec apiserver_audience;
  apiserver_audience.audiences = {"https://kubernetes.default.svc"};
  Stream audience = open(token_for("node-a", apiserver_audience));
  EXPECT_EQ(refused(audience, "node-a").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Revoked (its pod deleted) before it was ever reviewed.
  const std::string revoked = token_for("node-a");
  api_->revoke_service_account_token(revoked);
  Stream gone = open(revoked);
  EXPECT_EQ(refused(gone, "node-a").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refusals(metrics::ReportRefusal::kTokenInvalid), 3u);

  // A valid token of a service account that may not report (any pod on the node has one).
  ServiceAccountTokenSpec web;
  web.namespace_name = "default";
  web.service_account = "web";
  Stream other = open(token_for("node-a", web));
  const grpc::Status other_status = refused(other, "node-a");
  EXPECT_EQ(other_status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(other_status.error_message().find("system:serviceaccount:default:web"),
            std::string::npos);
  EXPECT_EQ(refusals(metrics::ReportRefusal::kServiceAccount), 1u);

  // A token that names no node (Kubernetes before 1.30, or not a pod's token).
  Stream nodeless = open(token_for(""));
  EXPECT_EQ(refused(nodeless, "node-a").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refusals(metrics::ReportRefusal::kNoNode), 1u);

  EXPECT_FALSE(known("node-a"));
}

TEST_F(NodeIdentityTest, AReviewedTokenIsCachedAcrossReconnects) {
  start(config::ExtenderConfig::GrpcAuth::kToken);
  const std::string token = token_for("node-a");
  for (int i = 1; i <= 3; ++i) {
    Stream s = open(token);
    auto ack = send(s, snapshot_report("node-a", static_cast<std::uint64_t>(i)));
    ASSERT_TRUE(ack.has_value());
    EXPECT_TRUE(ack->error().empty()) << ack->error();
    s.rw->WritesDone();
    EXPECT_TRUE(s.rw->Finish().ok());
  }
  EXPECT_EQ(api_->counters().token_reviews, 1u);
}

TEST_F(NodeIdentityTest, PlainTextToTheTlsPortIsNotServed) {
  start(config::ExtenderConfig::GrpcAuth::kToken);
  auto channel = grpc::CreateChannel(target(), grpc::InsecureChannelCredentials());
  auto plain = epc::v1::NodeReports::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 3s);
  context.AddMetadata("authorization", "Bearer " + token_for("node-a"));
  auto rw = plain->Stream(&context);
  rw->Write(snapshot_report("node-a", 1));
  epc::v1::Ack ack;
  EXPECT_FALSE(rw->Read(&ack));
  EXPECT_FALSE(rw->Finish().ok());
  EXPECT_FALSE(known("node-a"));
}

// The device plugin's own stream client, configured as the DaemonSet is: CA file and token file.
TEST_F(NodeIdentityTest, DevicePluginStreamReportsItsNodeOverTlsWithItsTokenFile) {
  start(config::ExtenderConfig::GrpcAuth::kToken);
  write_file(dir_.file("token-a"), token_for("node-a") + "\n");
  deviceplugin::report::NodeState state;
  state.sgx_present = true;
  state.epc_capacity_bytes = 64 * kMi;
  state.enclave.total = 10;
  state.healthy = true;

  auto own = deviceplugin::report::ReportStream::create(plugin_options("node-a"), state);
  ASSERT_TRUE(own.ok()) << own.error().message;
  // A plugin with node-a's token that says it is node-b (a stolen token, or a wrong --node-name).
  auto liar = deviceplugin::report::ReportStream::create(plugin_options("node-b"), state);
  ASSERT_TRUE(liar.ok()) << liar.error().message;

  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline &&
         ((*own)->acked_sequence() == 0 || (*liar)->stats().messages_refused == 0)) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GT((*own)->acked_sequence(), 0u);
  EXPECT_GT((*liar)->stats().messages_refused, 0u);
  EXPECT_EQ((*liar)->acked_sequence(), 0u);
  EXPECT_TRUE(known("node-a"));
  EXPECT_FALSE(known("node-b"));
  EXPECT_GE(refusals(metrics::ReportRefusal::kWrongNode), 1u);
}

TEST_F(NodeIdentityTest, ClientCertificateBindsTheStreamToTheNodeInItsCommonName) {
  start(config::ExtenderConfig::GrpcAuth::kMtls);
  Stream s = open("", /*client_certificate=*/true);
  auto forged = send(s, snapshot_report("node-b", 1));
  ASSERT_TRUE(forged.has_value());
  EXPECT_NE(forged->error().find("authenticated as node node-a"), std::string::npos)
      << forged->error();
  auto own = send(s, snapshot_report("node-a", 2));
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(own->error().empty()) << own->error();
  EXPECT_TRUE(known("node-a"));
  EXPECT_FALSE(known("node-b"));
  EXPECT_EQ(refusals(metrics::ReportRefusal::kWrongNode), 1u);
  s.rw->WritesDone();
  EXPECT_TRUE(s.rw->Finish().ok());

  // Without a client certificate the handshake fails: nothing is reported.
  Stream anonymous = open("", /*client_certificate=*/false);
  anonymous.rw->Write(snapshot_report("node-c", 1));
  epc::v1::Ack ack;
  EXPECT_FALSE(anonymous.rw->Read(&ack));
  EXPECT_FALSE(anonymous.rw->Finish().ok());
  EXPECT_FALSE(known("node-c"));
}

TEST_F(NodeIdentityTest, ACertificateThatNamesNoNodeIsRefused) {
  // Signed by the right CA, but CN system:kube-scheduler: not a node.
  auto certs = standins::make_test_certificates();
  ASSERT_TRUE(certs.ok());
  certs_ = std::move(certs).value();
  ASSERT_TRUE(standins::write_test_certificates(certs_, dir_.path()).ok());
  start(config::ExtenderConfig::GrpcAuth::kMtls);
  Stream s = open("", /*client_certificate=*/true);
  const grpc::Status status = refused(s, "node-a");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("system:node:"), std::string::npos);
  EXPECT_EQ(refusals(metrics::ReportRefusal::kNoNode), 1u);
}

TEST(ServerCredentials, BrokenTlsFilesAreAClearStartupError) {
  TempDir dir("epc-identity");
  auto certs = standins::make_test_certificates();
  ASSERT_TRUE(certs.ok());
  ASSERT_TRUE(standins::write_test_certificates(*certs, dir.path()).ok());
  auto other = standins::make_test_certificates();
  ASSERT_TRUE(other.ok());
  write_file(dir.file("other.key"), other->server_key_pem);
  auto state = state::ClusterState::create({});

  config::ExtenderConfig config;
  config.grpc_address = "127.0.0.1:0";
  config.grpc_tls_cert_file = dir.file("server.crt");
  config.grpc_tls_key_file = dir.file("missing.key");
  auto missing = ReportsServer::create(config, *state);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.key"), std::string::npos);

  config.grpc_tls_key_file = dir.file("other.key");
  auto mismatch = ReportsServer::create(config, *state);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("does not match"), std::string::npos);

  config.grpc_tls_key_file = dir.file("server.key");
  config.grpc_auth = config::ExtenderConfig::GrpcAuth::kToken;
  auto no_reviewer = ReportsServer::create(config, *state);
  ASSERT_FALSE(no_reviewer.ok());
  EXPECT_NE(no_reviewer.error().message.find("review"), std::string::npos);
}

}  // namespace
}  // namespace epc::reports
