#include "deviceplugin/status_server.h"

#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "tools/http_client/http_client.h"

namespace epc::deviceplugin {
namespace {

TEST(StatusServer, AnswersTheCheckAndFollowsIt) {
  std::atomic<bool> healthy{false};
  auto server = StatusServer::create("127.0.0.1:0", [&]() -> HealthVerdict {
    return {healthy.load(), "sgx.intel.com/enclave not registered with kubelet"};
  });
  ASSERT_TRUE(server.ok()) << server.error().message;
  ASSERT_GT((*server)->port(), 0);
  tools::http_client::HttpClient http(static_cast<std::uint16_t>((*server)->port()));

  auto response = http.get("/healthz");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 503U);
  EXPECT_NE(response->body.find("not registered"), std::string::npos) << response->body;

  healthy = true;
  response = http.get("/healthz");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200U);
  EXPECT_EQ(response->body, "ok\n");

  response = http.get("/metrics");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 404U);
  (*server)->stop();
  (*server)->stop();  // idempotent
}

TEST(StatusServer, ServesMetricsWhenGivenAFunction) {
  int scrapes = 0;
  auto server = StatusServer::create(
      "127.0.0.1:0",
      [] {
        return HealthVerdict{true, ""};
      },
      [&scrapes] { return "epc_plugin_scrapes " + std::to_string(++scrapes) + "\n"; });
  ASSERT_TRUE(server.ok()) << server.error().message;
  tools::http_client::HttpClient http(static_cast<std::uint16_t>((*server)->port()));
  for (int expected = 1; expected <= 2; ++expected) {
    auto response = http.get("/metrics");
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 200U);
    EXPECT_EQ(response->body, "epc_plugin_scrapes " + std::to_string(expected) + "\n");
    EXPECT_NE(response->content_type.find("version=0.0.4"), std::string::npos)
        << response->content_type;
  }
  auto other = http.get("/metricsx");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->status, 404U);
  auto health = http.get("/healthz?verbose=1");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200U);
}

TEST(StatusServer, BadAddressesAreErrors) {
  for (const char* address : {"nohost", "localhost:80", "127.0.0.1:99999", "127.0.0.1:x"}) {
    auto server = StatusServer::create(address, [] { return HealthVerdict{true, ""}; });
    EXPECT_FALSE(server.ok()) << address;
  }
}

}  // namespace
}  // namespace epc::deviceplugin
