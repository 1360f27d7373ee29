// The HTTP server end to end: a real HttpServer on 127.0.0.1 (ephemeral port) over a real
// ClusterState fed with reports and real Prometheus metrics, driven by the shared test client and
// by raw sockets for the misbehaving clients.
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/http/connection_context.h"
#include "extender/http/server.h"
#include "tests/integration/http/raw_connection.h"
#include "tools/http_client/http_client.h"

namespace epc::http {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using test::RawConnection;
using ::testing::HasSubstr;
using tools::http_client::HttpClient;
using tools::http_client::HttpResponse;

constexpr std::int64_t kMi = 1024 * 1024;
constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr std::int64_t kReadTimeoutMs = 300;
constexpr std::int64_t kIdleTimeoutMs = 5000;
// Upper bound for things that should happen "soon" (a close after the read timeout): generous so
// a loaded sanitizer CI machine does not flake; the test only fails if the server never acts.
constexpr milliseconds kPatience{10000};

std::string recorded(std::string_view file) {
  std::ifstream in(std::string(EPC_TEST_DATA_DIR) + "/kube-scheduler/" + std::string(file),
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kNodeNamesFilter = recorded("filter-request-nodenames.json");
const std::string kNodeListFilter = recorded("filter-request-nodelist.json");
const std::string kNodeListFilter136 = recorded("filter-request-nodelist-k8s1.36.json");
const std::string kNodeListPrioritize = recorded("prioritize-request-nodelist.json");

constexpr std::string_view kAllFitNodeNames =
    R"({"Nodes":null,"NodeNames":["node-a","node-b"],"FailedNodes":{},)"
    R"("FailedAndUnresolvableNodes":{},"Error":""})";

// A full report: SGX with `epc_mi` MiB, 20 enclave and 20 provision slots (ORIGIN.md cluster).
state::ReportMessage report(std::string node, std::int64_t epc_mi,
                            std::vector<core::SlotHolder> holders = {}) {
  state::NodeState full;
  full.sgx_present = true;
  full.epc_capacity_bytes = epc_mi * kMi;
  full.epc_sections = {{0, epc_mi * kMi}};
  full.enclave_slots = {20, static_cast<std::int64_t>(holders.size())};
  full.provision_slots = {20, 0};
  full.holders = std::move(holders);
  state::ReportMessage message;
  message.node_name = std::move(node);
  message.instance_id = "instance-1";
  message.sequence = 1;
  message.plugin_version = "test";
  message.body = std::move(full);
  return message;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = state::ClusterState::create({});
    metrics_ = metrics::Metrics::create();
    config_.http_address = "127.0.0.1";
    config_.http_port = 0;
    config_.url_prefix = "/sgx";
    config_.http_body_limit_bytes = kBodyLimit;
    config_.http_read_timeout_ms = kReadTimeoutMs;
    config_.http_idle_timeout_ms = kIdleTimeoutMs;
    config_.http_threads = 2;
  }

  void feed_recorded_cluster(std::vector<core::SlotHolder> node_c_holders = {}) {
    ASSERT_TRUE(state_->apply(report("node-a", 128)).ok());
    ASSERT_TRUE(state_->apply(report("node-b", 256)).ok());
    ASSERT_TRUE(state_->apply(report("node-c", 32, std::move(node_c_holders))).ok());
  }

  void start() {
    auto created = HttpServer::create(config_, *state_, *metrics_);
    ASSERT_TRUE(created.ok()) << created.error().message;
    server_ = std::move(created).value();
    for (Route& route : extra_routes_) {
      server_->routes().add(std::move(route));
    }
    server_->start();
  }

  std::uint16_t port() const { return server_->port(); }

  static HttpResponse ok(common::Result<HttpResponse> response) {
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message);
    return response.ok() ? response.value() : HttpResponse{};
  }

  // The value of the metric line that contains all of `parts`, or -1.
  double metric_value(const std::string& exposition, std::initializer_list<std::string> parts) {
    std::istringstream lines(exposition);
    for (std::string line; std::getline(lines, line);) {
      bool all = line.rfind('#', 0) != 0;
      for (const std::string& part : parts) {
        all = all && line.find(part) != std::string::npos;
      }
      if (all) {
        return std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return -1;
  }

  config::ExtenderConfig config_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::vector<Route> extra_routes_;
  std::unique_ptr<HttpServer> server_;
};

// ------------------------------------------------------------------------------------------------

TEST_F(HttpServerTest, binds_an_ephemeral_port_and_reports_bind_errors_as_values) {
  start();
  EXPECT_NE(port(), 0);
  EXPECT_TRUE(server_->serving());
  config::ExtenderConfig clash = config_;
  clash.http_port = port();
  auto second = HttpServer::create(clash, *state_, *metrics_);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error().message, HasSubstr("cannot bind"));
  config::ExtenderConfig bad = config_;
  bad.http_address = "not-an-address";
  auto third = HttpServer::create(bad, *state_, *metrics_);
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(third.error().message, HasSubstr("invalid http_address"));
}

TEST_F(HttpServerTest, keep_alive_serves_many_requests_on_one_connection) {
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    if (i % 2 == 0) {
      const HttpResponse response = ok(client.post("/sgx/filter", kNodeNamesFilter));
      ASSERT_EQ(response.status, 200u);
      ASSERT_EQ(response.body, kAllFitNodeNames);
      ASSERT_TRUE(response.keep_alive);
    } else {
      const HttpResponse response = ok(client.post("/sgx/prioritize", kNodeListPrioritize));
      ASSERT_EQ(response.status, 200u);
      // BestFit (default): node-a 10, node-b 6 (arithmetic in prioritize_test.cc).
      ASSERT_EQ(response.body, R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":6}])");
    }
  }
  EXPECT_EQ(client.connections_opened(), 1);
  const std::string exposition = metrics_->serialize();
  EXPECT_EQ(metric_value(exposition,
                         {"epc_extender_requests_total{", "verb=\"filter\"", "outcome=\"ok\""}),
            kRequests / 2);
  EXPECT_EQ(metric_value(exposition,
                         {"epc_extender_requests_total{", "verb=\"prioritize\"", "outcome=\"ok\""}),
            kRequests / 2);
}

TEST_F(HttpServerTest, full_node_list_mode_echoes_surviving_nodes) {
  // node-c holds a pod with 20Mi: 32 − 20 = 12Mi free < 16Mi → FailedNodes.
  feed_recorded_cluster({core::SlotHolder{{"default/busy", "uid-busy"}, 20 * kMi, 1, 0}});
  start();
  HttpClient client(port());
  for (const std::string* body : {&kNodeListFilter, &kNodeListFilter136}) {
    const HttpResponse response = ok(client.post("/sgx/filter", *body));
    ASSERT_EQ(response.status, 200u);
    EXPECT_EQ(response.content_type, "application/json");
    const json::object reply = json::parse(response.body).as_object();
    const json::value input = json::parse(*body);
    const json::array& input_items = input.at("Nodes").at("items").as_array();
    EXPECT_EQ(reply.at("Nodes"),
              (json::object{{"metadata", json::object{}},
                            {"items", json::array{input_items[0], input_items[1]}}}));
    EXPECT_EQ(reply.at("NodeNames"), (json::array{"node-a", "node-b"}));
    EXPECT_EQ(reply.at("FailedNodes"), (json::object{{"node-c", "insufficient free SGX EPC"}}));
    EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"), json::object{});
    EXPECT_EQ(reply.at("Error"), "");
  }
  // One rejection per filter call, by its reason; both pods had a node.
  const std::string exposition = metrics_->serialize();
  EXPECT_EQ(metric_value(exposition,
                         {"epc_extender_filter_rejections_total{", "reason=\"insufficient_epc\""}),
            2);
  EXPECT_EQ(
      metric_value(exposition, {"epc_extender_filter_rejections_total{", "reason=\"no_report\""}),
      0);
  EXPECT_EQ(metric_value(exposition, {"epc_extender_filter_pods_total{", "result=\"placeable\""}),
            2);
}

TEST_F(HttpServerTest, unknown_node_is_unresolvable) {
  ASSERT_TRUE(state_->apply(report("node-a", 128)).ok());
  start();
  HttpClient client(port());
  const HttpResponse response = ok(client.post("/sgx/filter", kNodeNamesFilter));
  const json::object reply = json::parse(response.body).as_object();
  EXPECT_EQ(reply.at("NodeNames"), (json::array{"node-a"}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"node-b", "no EPC report from node"}}));
  EXPECT_EQ(metric_value(metrics_->serialize(),
                         {"epc_extender_filter_rejections_total{", "reason=\"no_report\""}),
            1);
}

TEST_F(HttpServerTest, filter_tells_the_state_about_the_pod) {
  // node-c reports default/sgx-small as a slot holder without knowing its EPC; the filter request
  // shows 16Mi for that pod, which the ledger then attributes to node-c.
  feed_recorded_cluster({core::SlotHolder{{"default/sgx-small", ""}, std::nullopt, 1, 0}});
  start();
  HttpClient client(port());
  ASSERT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).status, 200u);
  state_->flush();
  const state::ClusterSnapshotPtr snapshot = state_->snapshot();
  const auto index = snapshot->find("node-c");
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(snapshot->row(*index).epc_requested_bytes, 16 * kMi);
}

TEST_F(HttpServerTest, malformed_bodies_get_200_with_error_and_the_connection_keeps_serving) {
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  for (
      const char* bad :
      {"{", "[1,2]", R"({"Pod":{},"NodeNames":"node-a"})",
       R"({"Pod":{"spec":{"containers":[{"name":"app","resources":{"requests":{"sgx.intel.com/epc":"-1Mi"}}}]}},"NodeNames":["node-a"]})"}) {
    const HttpResponse response = ok(client.post("/sgx/filter", bad));
    ASSERT_EQ(response.status, 200u) << bad;
    const json::object reply = json::parse(response.body).as_object();
    EXPECT_NE(reply.at("Error").as_string(), "") << bad;
    EXPECT_EQ(reply.at("NodeNames"), json::array{}) << bad;
    EXPECT_TRUE(response.keep_alive);

    const HttpResponse prioritized = ok(client.post("/sgx/prioritize", bad));
    ASSERT_EQ(prioritized.status, 200u);
    EXPECT_EQ(prioritized.body, "[]");
  }
  EXPECT_THAT(ok(client.post("/sgx/filter", "{")).body, HasSubstr("malformed JSON"));
  EXPECT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  EXPECT_EQ(client.connections_opened(), 1);
  EXPECT_EQ(metric_value(metrics_->serialize(), {"epc_extender_requests_total{",
                                                 "verb=\"prioritize\"", "outcome=\"error\""}),
            4);
}

TEST_F(HttpServerTest, oversized_body_gets_200_with_error_then_close_and_server_keeps_serving) {
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  const std::string huge(kBodyLimit * 3, ' ');
  const HttpResponse response = ok(client.post("/sgx/filter", huge));
  EXPECT_EQ(response.status, 200u) << response.body;
  EXPECT_FALSE(response.keep_alive);
  const json::object reply = json::parse(response.body).as_object();
  ASSERT_TRUE(reply.contains("Error")) << response.body;
  EXPECT_THAT(std::string(reply.at("Error").as_string()), HasSubstr("exceeds the limit"));
  EXPECT_EQ(reply.at("NodeNames"), json::array{});

  const HttpResponse prioritized = ok(client.post("/sgx/prioritize", huge));
  EXPECT_EQ(prioritized.status, 200u);
  EXPECT_EQ(prioritized.body, "[]");

  // The next request opens a new connection and is served normally.
  EXPECT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  EXPECT_EQ(client.connections_opened(), 3);
  EXPECT_EQ(metric_value(metrics_->serialize(),
                         {"epc_extender_limit_rejections_total{", "limit=\"http_body_size\""}),
            2);
}

TEST_F(HttpServerTest, body_exactly_at_the_limit_is_served) {
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  // Trailing whitespace is valid JSON: the recorded filter, padded to exactly the body limit.
  std::string at_limit = kNodeNamesFilter;
  ASSERT_LT(at_limit.size(), kBodyLimit);
  at_limit.resize(kBodyLimit, ' ');
  const HttpResponse response = ok(client.post("/sgx/filter", at_limit));
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, kAllFitNodeNames);
  EXPECT_TRUE(response.keep_alive);
  EXPECT_EQ(metric_value(metrics_->serialize(),
                         {"epc_extender_limit_rejections_total{", "limit=\"http_body_size\""}),
            0);
}

TEST_F(HttpServerTest, slow_client_is_cut_off_after_the_read_timeout_others_are_served) {
  feed_recorded_cluster();
  start();
  // Headers promise 1000 bytes of body, then the client stalls.
  RawConnection stalled_body(port());
  ASSERT_TRUE(stalled_body.connected());
  ASSERT_TRUE(
      stalled_body.send("POST /sgx/filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 1000\r\n\r\n{\"Pod\":"));
  // Half a request line, then nothing.
  RawConnection stalled_header(port());
  ASSERT_TRUE(stalled_header.connected());
  ASSERT_TRUE(stalled_header.send("POST /sgx/filter HTT"));

  // Meanwhile another client is served, repeatedly.
  HttpClient client(port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  }

  std::string ignored;
  EXPECT_EQ(stalled_body.read_until_closed(ignored, kPatience), RawConnection::ReadEnd::kClosed);
  EXPECT_EQ(stalled_header.read_until_closed(ignored, kPatience), RawConnection::ReadEnd::kClosed);
  EXPECT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  // Both cut-offs are counted. Beast's timer closes the socket itself and the read's handler,
  // which counts, runs after it: the client may see the close first, so wait for the count.
  const auto read_timeouts = [&] {
    return metric_value(metrics_->serialize(),
                        {"epc_extender_limit_rejections_total{", "limit=\"http_read_timeout\""});
  };
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (read_timeouts() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(read_timeouts(), 2);
}

TEST_F(HttpServerTest, idle_connection_outlives_the_read_timeout) {
  // Between requests the idle timeout (5 s) applies, not the read timeout (300 ms).
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  ASSERT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).status, 200u);
  std::this_thread::sleep_for(milliseconds(3 * kReadTimeoutMs));
  ASSERT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).status, 200u);
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST_F(HttpServerTest, idle_connection_is_closed_after_the_idle_timeout) {
  config_.http_idle_timeout_ms = 500;
  start();
  RawConnection idle(port());
  ASSERT_TRUE(idle.connected());
  std::string ignored;
  EXPECT_EQ(idle.read_until_closed(ignored, kPatience), RawConnection::ReadEnd::kClosed);
  EXPECT_TRUE(ignored.empty());
}

TEST_F(HttpServerTest, pipelined_requests_are_answered_in_order) {
  feed_recorded_cluster();
  start();
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string filter = "POST /sgx/filter HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                             std::to_string(kNodeNamesFilter.size()) + "\r\n\r\n" +
                             kNodeNamesFilter;
  ASSERT_TRUE(connection.send(filter + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + filter));
  std::string bytes;
  ASSERT_TRUE(connection.read_responses(bytes, 3, kPatience)) << bytes;
  const std::size_t first = bytes.find(std::string(kAllFitNodeNames));
  const std::size_t health = bytes.find("\r\n\r\nok");
  const std::size_t second = bytes.find(std::string(kAllFitNodeNames), first + 1);
  EXPECT_NE(first, std::string::npos);
  EXPECT_NE(second, std::string::npos);
  EXPECT_LT(first, health);
  EXPECT_LT(health, second);
}

TEST_F(HttpServerTest, not_found_and_method_not_allowed) {
  start();
  HttpClient client(port());
  const HttpResponse missing = ok(client.post("/sgx/unknown", "{}"));
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(json::parse(missing.body).at("Error"), "no such endpoint");
  const HttpResponse wrong = ok(client.get("/sgx/filter"));
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_EQ(json::parse(wrong.body).at("Error"), "method not allowed");
  EXPECT_EQ(ok(client.request("DELETE", "/healthz")).status, 405u);
  // Still the same connection.
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST_F(HttpServerTest, malformed_http_gets_400_and_close) {
  start();
  RawConnection connection(port());
  ASSERT_TRUE(connection.send("THIS IS NOT HTTP\r\n\r\n"));
  std::string bytes;
  EXPECT_EQ(connection.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
  EXPECT_THAT(bytes, HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(bytes, HasSubstr("malformed HTTP request"));
}

// A POST of the recorded filter with one extra header field `X-Pad` of `pad` bytes.
std::string filter_with_padding(std::size_t pad) {
  return "POST /sgx/filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Pad: " +
         std::string(pad, 'p') + "\r\nContent-Length: " + std::to_string(kNodeNamesFilter.size()) +
         "\r\n\r\n" + kNodeNamesFilter;
}

TEST_F(HttpServerTest, header_at_the_limit_is_served_and_one_over_gets_431) {
  config_.http_header_limit_bytes = 1024;
  feed_recorded_cluster();
  start();
  // Beast's parser bounds the request line and the header fields each by the limit: the fields
  // (through the blank line that ends them) are 1024 bytes here, served.
  const std::string head_without_pad = filter_with_padding(0);
  const std::size_t fields_start = head_without_pad.find("\r\n") + 2;
  const std::size_t fields_without_pad = head_without_pad.find("\r\n\r\n") + 4 - fields_start;
  ASSERT_LT(fields_without_pad, 1024u);
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.send(filter_with_padding(1024 - fields_without_pad)));
    std::string bytes;
    ASSERT_TRUE(connection.read_responses(bytes, 1, kPatience)) << bytes;
    EXPECT_THAT(bytes, HasSubstr("HTTP/1.1 200"));
    EXPECT_THAT(bytes, HasSubstr(std::string(kAllFitNodeNames)));
  }
  // One byte more: 431 with the filter's error form naming the bound, then the connection closes.
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.send(filter_with_padding(1025 - fields_without_pad)));
    std::string bytes;
    EXPECT_EQ(connection.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
    EXPECT_THAT(bytes, HasSubstr("HTTP/1.1 431"));
    EXPECT_THAT(bytes, HasSubstr("http.header_limit"));
    EXPECT_THAT(bytes, HasSubstr(R"("NodeNames":[])"));
  }
  // The server goes on serving.
  HttpClient client(port());
  EXPECT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  EXPECT_EQ(metric_value(metrics_->serialize(),
                         {"epc_extender_limit_rejections_total{", "limit=\"http_header_size\""}),
            1);
}

TEST_F(HttpServerTest, connections_over_the_limit_get_503_and_the_rest_are_served) {
  config_.http_max_connections = 2;
  feed_recorded_cluster();
  start();
  // At the bound: two keep-alive connections, both served.
  auto first = std::make_unique<HttpClient>(port());
  HttpClient second(port());
  ASSERT_EQ(ok(first->post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  ASSERT_EQ(ok(second.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);

  // A third connection: its request is answered 503 in the filter's error form, with
  // Retry-After, and the connection closes.
  HttpClient third(port());
  const HttpResponse refused = ok(third.post("/sgx/filter", kNodeNamesFilter));
  EXPECT_EQ(refused.status, 503u);
  EXPECT_FALSE(refused.keep_alive);
  const json::object reply = json::parse(refused.body).as_object();
  EXPECT_THAT(std::string(reply.at("Error").as_string()), HasSubstr("http.max_connections 2"));
  EXPECT_EQ(reply.at("NodeNames"), json::array{});
  {
    RawConnection raw(port());
    ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string bytes;
    EXPECT_EQ(raw.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
    EXPECT_THAT(bytes, HasSubstr("HTTP/1.1 503"));
    EXPECT_THAT(bytes, HasSubstr("Retry-After: 1"));
  }
  // The connections within the bound are not disturbed.
  EXPECT_EQ(ok(first->post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  EXPECT_EQ(ok(second.post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  EXPECT_EQ(first->connections_opened(), 1);
  EXPECT_EQ(second.connections_opened(), 1);

  // Once one closes, a new connection is served again (the server notices the close on its own
  // time: retried until it does, within the patience).
  first.reset();
  int refusals = 2;
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    HttpClient again(port());
    const HttpResponse response = ok(again.post("/sgx/filter", kNodeNamesFilter));
    served = response.status == 200u && response.body == kAllFitNodeNames;
    refusals += response.status == 503u ? 1 : 0;
    if (!served) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  EXPECT_TRUE(served);
  const std::string exposition = metrics_->serialize();
  EXPECT_EQ(metric_value(exposition,
                         {"epc_extender_limit_rejections_total{", "limit=\"http_connections\""}),
            refusals);
  EXPECT_EQ(metric_value(exposition,
                         {"epc_extender_requests_total{", "verb=\"filter\"", "outcome=\"error\""}),
            refusals - 1);  // the /healthz one is verb "other"
}

TEST_F(HttpServerTest, a_flood_beyond_as_many_refusals_as_connections_is_closed_at_once) {
  config_.http_max_connections = 1;
  // Far beyond the patience: a connection closed within it was closed at once, not by a timeout.
  config_.http_read_timeout_ms = 60000;
  config_.http_idle_timeout_ms = 60000;
  feed_recorded_cluster();
  start();
  auto served = std::make_unique<HttpClient>(port());
  ASSERT_EQ(ok(served->post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  // One connection being refused (it has sent nothing yet: its header is awaited)...
  RawConnection refusing(port());
  ASSERT_TRUE(refusing.connected());
  // ...so the next one is closed without a reply (the server accepts in connection order):
  // a flood costs the server an accept only.
  {
    RawConnection flood(port());
    std::string bytes;
    EXPECT_EQ(flood.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
    EXPECT_TRUE(bytes.empty()) << bytes;
  }
  // The refusal in progress still answers its request properly.
  ASSERT_TRUE(refusing.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string bytes;
  EXPECT_EQ(refusing.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
  EXPECT_THAT(bytes, HasSubstr("HTTP/1.1 503"));
  // And the served connection never noticed.
  EXPECT_EQ(ok(served->post("/sgx/filter", kNodeNamesFilter)).body, kAllFitNodeNames);
  EXPECT_EQ(served->connections_opened(), 1);
  EXPECT_GE(metric_value(metrics_->serialize(),
                         {"epc_extender_limit_rejections_total{", "limit=\"http_connections\""}),
            2);
}

TEST_F(HttpServerTest, health_readiness_and_metrics) {
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  const HttpResponse health = ok(client.get("/healthz"));
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok");
  EXPECT_EQ(ok(client.get("/readyz")).status, 200u);

  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(ok(client.post("/sgx/filter", kNodeNamesFilter)).status, 200u);
  }
  ASSERT_EQ(ok(client.post("/sgx/filter", "{")).status, 200u);
  const HttpResponse scrape = ok(client.get("/metrics?name=x"));
  EXPECT_EQ(scrape.status, 200u);
  EXPECT_EQ(scrape.content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(metric_value(scrape.body,
                         {"epc_extender_requests_total{", "verb=\"filter\"", "outcome=\"ok\""}),
            3);
  EXPECT_EQ(metric_value(scrape.body,
                         {"epc_extender_requests_total{", "verb=\"filter\"", "outcome=\"error\""}),
            1);
  EXPECT_EQ(metric_value(scrape.body,
                         {"epc_extender_request_duration_seconds_count{", "verb=\"filter\""}),
            4);
}

TEST_F(HttpServerTest, capacity_answers_what_still_fits_and_refuses_a_bad_shape) {
  feed_recorded_cluster();
  start();
  HttpClient client(port());
  // node-a 128Mi: 2 of 64Mi; node-b 256Mi: 4; node-c 32Mi: none, its 32Mi stranded.
  const HttpResponse fits = ok(client.get("/capacity?epc=64Mi&enclaves=1"));
  EXPECT_EQ(fits.status, 200);
  const json::value answer = json::parse(fits.body);
  EXPECT_EQ(answer.at("pods").as_int64(), 6);
  EXPECT_EQ(answer.at("nodesWithRoom").as_int64(), 2);
  EXPECT_EQ(answer.at("strandedEpcBytes").as_int64(), 32 * kMi);
  EXPECT_EQ(answer.at("nodes").as_array()[0].at("node").as_string(), "node-b");

  const HttpResponse bad = ok(client.get("/capacity?epc=much"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(std::string(json::parse(bad.body).at("error").as_string()), HasSubstr("epc"));
  EXPECT_EQ(ok(client.get("/capacity")).status, 400);
  // The connection keeps serving after the refusals.
  EXPECT_EQ(ok(client.get("/capacity?epc=256Mi")).status, 200);
}

TEST_F(HttpServerTest, extra_routes_can_be_registered_before_start) {
  Route null_route;
  null_route.method = HttpMethod::kPost;
  null_route.path = "/null";
  null_route.handler = [](const RouteRequest& request, RouteReply& reply) {
    reply.body.assign("[").append(std::to_string(request.body.size())).append("]");
  };
  extra_routes_.push_back(std::move(null_route));
  start();
  HttpClient client(port());
  EXPECT_EQ(ok(client.post("/null", kNodeNamesFilter)).body,
            "[" + std::to_string(kNodeNamesFilter.size()) + "]");
}

TEST_F(HttpServerTest, concurrent_clients_on_two_io_threads) {
  feed_recorded_cluster();
  start();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      HttpClient client(port());
      for (int i = 0; i < 50; ++i) {
        auto response = client.post(i % 2 ? "/sgx/prioritize" : "/sgx/filter",
                                    i % 3 ? kNodeNamesFilter : kNodeListFilter);
        if (response.ok() && response->status == 200 &&
            json::parse(response->body).is_object() == (i % 2 == 0)) {
          ++good;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(good.load(), 200);
}

TEST_F(HttpServerTest, stop_closes_open_connections) {
  start();
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  std::string bytes;
  ASSERT_TRUE(connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(connection.read_responses(bytes, 1, kPatience));
  server_->stop();
  EXPECT_FALSE(server_->serving());
  EXPECT_EQ(connection.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
  server_->stop();  // idempotent
}

// A route whose reply another thread finishes later, as the bind verb does while the API call runs.
class DeferredRouteTest : public HttpServerTest {
 protected:
  void add_deferred_route() {
    Route route;
    route.method = HttpMethod::kPost;
    route.path = "/later";
    route.handler = [this](const RouteRequest&, RouteReply& reply) {
      std::shared_ptr<DeferredReply> handle = reply.defer();
      const std::lock_guard lock(mutex_);
      pending_.push_back(std::move(handle));
    };
    extra_routes_.push_back(std::move(route));
  }

  std::shared_ptr<DeferredReply> take_pending() {
    for (int i = 0; i < 1000; ++i) {
      {
        const std::lock_guard lock(mutex_);
        if (!pending_.empty()) {
          std::shared_ptr<DeferredReply> handle = std::move(pending_.back());
          pending_.pop_back();
          return handle;
        }
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    return nullptr;
  }

  std::mutex mutex_;
  std::vector<std::shared_ptr<DeferredReply>> pending_;
};

TEST_F(DeferredRouteTest, a_reply_finished_on_another_thread_reaches_the_client) {
  add_deferred_route();
  start();
  RawConnection connection(port());
  ASSERT_TRUE(connection.send("POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  std::shared_ptr<DeferredReply> handle = take_pending();
  ASSERT_NE(handle, nullptr);
  std::thread([&handle] {
    handle->finish([](RouteReply& reply) { reply.body.assign(R"({"Error":""})"); });
  }).join();
  std::string bytes;
  ASSERT_TRUE(connection.read_responses(bytes, 1, kPatience));
  EXPECT_THAT(bytes, HasSubstr(R"({"Error":""})"));
}

TEST_F(DeferredRouteTest, a_reply_finished_after_stop_or_destruction_is_dropped_safely) {
  add_deferred_route();
  start();
  RawConnection first(port());
  RawConnection second(port());
  const std::string request = "POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  ASSERT_TRUE(first.send(request));
  std::shared_ptr<DeferredReply> after_stop = take_pending();
  ASSERT_TRUE(second.send(request));
  std::shared_ptr<DeferredReply> after_destruction = take_pending();
  ASSERT_NE(after_stop, nullptr);
  ASSERT_NE(after_destruction, nullptr);

  // Stopping closes the connections whose replies are still pending, then frees the io_context
  // (ASan would see a finish() that posted to it or a socket closed after it).
  server_->stop();
  std::string bytes;
  EXPECT_EQ(first.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
  EXPECT_EQ(second.read_until_closed(bytes, kPatience), RawConnection::ReadEnd::kClosed);
  std::thread([&after_stop] {
    after_stop->finish([](RouteReply& reply) { reply.body.assign("late"); });
  }).join();
  server_.reset();
  std::thread([&after_destruction] {
    after_destruction->finish([](RouteReply& reply) { reply.body.assign("later"); });
    after_destruction.reset();  // the never-finished path of the destructor runs here too
  }).join();
  EXPECT_EQ(bytes.find("late"), std::string::npos);
}

}  // namespace
}  // namespace epc::http
