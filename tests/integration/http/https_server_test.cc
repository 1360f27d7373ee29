// HTTPS on the extender's HTTP API, end to end on 127.0.0.1: a real HttpServer with
// http.tls.* (a throw-away CA from the test-certificate stand-in) and the shared client speaking
// TLS as kube-scheduler's tlsConfig does (CA file, server name, optional client certificate).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/http/server.h"
#include "tests/integration/http/raw_connection.h"
#include "tests/support/exposition.h"
#include "tools/http_client/http_client.h"
#include "tools/standins/temp_dir.h"
#include "tools/standins/test_certificates.h"

namespace epc::http {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using tools::http_client::HttpClient;
using tools::standins::TempDir;
using tools::standins::TestCertificates;

constexpr std::string_view kFilter =
    R"({"Pod":{"metadata":{"name":"p","namespace":"default","uid":"u"},"spec":{"containers":[]}},)"
    R"("NodeNames":["node-a"]})";

// Replaces a file the way kubelet updates a Secret volume: a new file renamed over the old one.
void replace_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".new";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = tools::standins::make_test_certificates();
    ASSERT_TRUE(certs.ok()) << certs.error().message;
    certs_ = std::move(certs).value();
    ASSERT_TRUE(tools::standins::write_test_certificates(certs_, dir_.path()).ok());
    config_.http_address = "127.0.0.1";
    config_.http_port = 0;
    config_.url_prefix = "/sgx";
    config_.http_read_timeout_ms = 2000;
    config_.http_threads = 2;
    config_.http_tls_cert_file = dir_.file("server.crt");
    config_.http_tls_key_file = dir_.file("server.key");
    config_.tls_reload_period_ms = 50;
  }

  void start() {
    auto created = HttpServer::create(config_, *state_, *metrics_);
    ASSERT_TRUE(created.ok()) << created.error().message;
    server_ = std::move(created).value();
    server_->start();
  }

  std::unique_ptr<HttpClient> client(std::string ca = "", std::string cert = "",
                                     std::string key = "") {
    auto c = std::make_unique<HttpClient>(server_->port());
    c->set_tls({ca.empty() ? dir_.file("ca.crt") : std::move(ca), "localhost", std::move(cert),
                std::move(key)});
    c->set_timeout(5s);
    return c;
  }

  double handshake_failures() {
    return test_support::exposition_sample(
               metrics_->serialize(),
               R"(epc_extender_limit_rejections_total{limit="http_tls_handshake"})")
        .value_or(-1);
  }

  TempDir dir_{"epc-https"};
  TestCertificates certs_;
  config::ExtenderConfig config_;
  std::unique_ptr<state::ClusterState> state_ = state::ClusterState::create({});
  std::unique_ptr<metrics::Metrics> metrics_ = metrics::Metrics::create();
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpsServerTest, ServesTheExtenderVerbsOverTlsOnOneKeptAliveConnection) {
  start();
  auto c = client();
  for (int i = 0; i < 3; ++i) {
    auto filter = c->post("/sgx/filter", kFilter);
    ASSERT_TRUE(filter.ok()) << filter.error().message;
    EXPECT_EQ(filter->status, 200u);
    EXPECT_THAT(filter->body, HasSubstr(R"("FailedNodes":)"));
    EXPECT_TRUE(filter->keep_alive);
  }
  auto ready = c->get("/healthz");
  ASSERT_TRUE(ready.ok()) << ready.error().message;
  EXPECT_EQ(ready->status, 200u);
  EXPECT_EQ(c->connections_opened(), 1);
  EXPECT_EQ(handshake_failures(), 0.0);
}

TEST_F(HttpsServerTest, AClientThatDoesNotTrustTheCaOrSpeaksPlainTextIsNotServed) {
  start();
  auto other = tools::standins::make_test_certificates();
  ASSERT_TRUE(other.ok());
  {
    std::ofstream out(dir_.file("other-ca.crt"));
    out << other->ca_cert_pem;
  }
  auto wrong_ca = client(dir_.file("other-ca.crt"));
  auto refused = wrong_ca->get("/healthz");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("certificate verify failed"));

  // kube-scheduler configured without tlsConfig: plain HTTP to the TLS port gets no answer.
  HttpClient plain(server_->port());
  plain.set_timeout(5s);
  EXPECT_FALSE(plain.post("/sgx/filter", kFilter).ok());

  // A client that connects and never starts the handshake is cut off by the read timeout.
  test::RawConnection silent(server_->port());
  ASSERT_TRUE(silent.connected());
  const auto waited = std::chrono::steady_clock::now();
  std::string ignored;
  EXPECT_EQ(silent.read_until_closed(ignored, 10s), test::RawConnection::ReadEnd::kClosed);
  EXPECT_GE(std::chrono::steady_clock::now() - waited, 1500ms);

  for (int i = 0; i < 100 && handshake_failures() < 3; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(handshake_failures(), 3.0);
  // Still serving.
  auto good = client();
  auto healthy = good->get("/healthz");
  ASSERT_TRUE(healthy.ok()) << healthy.error().message;
  EXPECT_EQ(healthy->status, 200u);
}

TEST_F(HttpsServerTest, WithAClientCaOnlyClientsWithItsCertificateAreServed) {
  config_.http_tls_client_ca_file = dir_.file("ca.crt");
  start();
  auto anonymous = client();
  EXPECT_FALSE(anonymous->get("/healthz").ok());

  auto stranger = tools::standins::make_test_certificates();
  ASSERT_TRUE(stranger.ok());
  {
    std::ofstream cert(dir_.file("stranger.crt"));
    cert << stranger->client_cert_pem;
    std::ofstream key(dir_.file("stranger.key"));
    key << stranger->client_key_pem;
  }
  auto forged = client("", dir_.file("stranger.crt"), dir_.file("stranger.key"));
  EXPECT_FALSE(forged->get("/healthz").ok());

  auto scheduler = client("", dir_.file("client.crt"), dir_.file("client.key"));
  auto served = scheduler->post("/sgx/filter", kFilter);
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_EQ(served->status, 200u);
  for (int i = 0; i < 100 && handshake_failures() < 2; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(handshake_failures(), 2.0);
}

TEST_F(HttpsServerTest, ARotatedCertificateServesNewConnectionsAndKeepsOpenOnes) {
  start();
  auto before = client();
  ASSERT_TRUE(before->get("/healthz").ok());

  // cert-manager renews with a new CA (the worst case for clients): new files, same paths.
  auto renewed = tools::standins::make_test_certificates();
  ASSERT_TRUE(renewed.ok());
  {
    std::ofstream out(dir_.file("new-ca.crt"));
    out << renewed->ca_cert_pem;
  }
  replace_file(dir_.file("server.key"), renewed->server_key_pem);
  replace_file(dir_.file("server.crt"), renewed->server_cert_pem);

  // The reload happens at an accept after the period: poll with fresh connections.
  bool rotated = false;
  for (int i = 0; i < 200 && !rotated; ++i) {
    std::this_thread::sleep_for(20ms);
    auto probe = client(dir_.file("new-ca.crt"));
    rotated = probe->get("/healthz").ok();
  }
  EXPECT_TRUE(rotated);
  auto old_trust = client();
  EXPECT_FALSE(old_trust->get("/healthz").ok());

  // The connection made before the rotation was not dropped.
  auto kept = before->get("/healthz");
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(before->connections_opened(), 1);

  // A half-written replacement (a key that does not match) keeps the current certificate.
  replace_file(dir_.file("server.key"), certs_.server_key_pem);
  std::this_thread::sleep_for(150ms);
  for (int i = 0; i < 3; ++i) {
    auto still = client(dir_.file("new-ca.crt"));
    auto served = still->get("/healthz");
    ASSERT_TRUE(served.ok()) << served.error().message;
  }
}

TEST_F(HttpsServerTest, BrokenTlsFilesAreAClearStartupError) {
  config_.http_tls_key_file = dir_.file("missing.key");
  auto missing = HttpServer::create(config_, *state_, *metrics_);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("http.tls.key_file"));
  EXPECT_THAT(missing.error().message, HasSubstr("missing.key"));

  auto other = tools::standins::make_test_certificates();
  ASSERT_TRUE(other.ok());
  {
    std::ofstream out(dir_.file("other.key"));
    out << other->server_key_pem;
  }
  config_.http_tls_key_file = dir_.file("other.key");
  auto mismatch = HttpServer::create(config_, *state_, *metrics_);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.error().message, HasSubstr("does not match"));

  config_.http_tls_key_file = dir_.file("server.key");
  config_.http_tls_client_ca_file = dir_.file("server.key");
  auto bad_ca = HttpServer::create(config_, *state_, *metrics_);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_THAT(bad_ca.error().message, HasSubstr("http.tls.client_ca_file"));
}

}  // namespace
}  // namespace epc::http
