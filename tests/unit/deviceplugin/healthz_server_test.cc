#include "deviceplugin/healthz_server.h"

#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "tools/http_client/http_client.h"

namespace epc::deviceplugin {
namespace {

TEST(HealthzServer, AnswersTheCheckAndFollowsIt) {
  std::atomic<bool> healthy{false};
  auto server = HealthzServer::create("127.0.0.1:0", [&]() -> HealthVerdict {
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

TEST(HealthzServer, BadAddressesAreErrors) {
  for (const char* address : {"nohost", "localhost:80", "127.0.0.1:99999", "127.0.0.1:x"}) {
    auto server = HealthzServer::create(address, [] { return HealthVerdict{true, ""}; });
    EXPECT_FALSE(server.ok()) << address;
  }
}

}  // namespace
}  // namespace epc::deviceplugin
