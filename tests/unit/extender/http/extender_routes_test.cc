#include "extender/http/extender_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "extender/http/connection_context.h"
#include "extender/state/clock.h"
#include "tests/unit/extender/http/fakes.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http {
namespace {

using ::testing::HasSubstr;
using test::kMi;

// The routes without sockets: a real RouteTable over fakes of the state and metrics. The state's
// rows report "now" (the routes read the real monotonic clock) so staleness never interferes.
class ExtenderRoutesTest : public ::testing::Test {
 protected:
  ExtenderRoutesTest() : state_(fresh_cluster()) {
    config_.url_prefix = "/sgx/";
    add_extender_routes(table_, config_, state_, metrics_, [this] { return serving_; });
  }

  static state::Snapshot fresh_cluster() {
    state::Snapshot snapshot;
    for (auto [name, epc_mi] : {std::pair{"node-a", 128}, {"node-b", 256}, {"node-c", 32}}) {
      core::NodeRow row = test::sgx_row(epc_mi);
      row.report_time_ns = state::monotonic_now_ns();
      snapshot.add(test::info(name), row);
    }
    return snapshot;
  }

  struct Answer {
    unsigned status;
    std::string content_type;
    std::string body;
    metrics::Outcome outcome;
    metrics::Verb verb;
  };

  Answer call(HttpMethod method, std::string_view target, std::string_view body = "") {
    return call_on(table_, context_, method, target, body);
  }

  // The same on another route table and connection.
  static Answer call_on(RouteTable& table, ConnectionContext& context, HttpMethod method,
                        std::string_view target, std::string_view body = "") {
    context.request_body.assign(body);
    context.reply_body.clear();
    RouteReply reply(context.reply_body);
    const RouteRequest request{method, path_of(target), target, context.request_body, context};
    const metrics::Verb verb = table.dispatch(request, reply);
    return {reply.status, std::string(reply.content_type), context.reply_body, reply.outcome, verb};
  }

  config::ExtenderConfig config_;
  test::FakeClusterState state_;
  test::FakeMetrics metrics_;
  bool serving_ = true;
  RouteTable table_;
  ConnectionContext context_{1 << 20};
};

TEST_F(ExtenderRoutesTest, filter_answers_and_notes_the_pod_once) {
  const Answer answer =
      call(HttpMethod::kPost, "/sgx/filter", test::recorded("filter-request-nodenames.json"));
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.verb, metrics::Verb::kFilter);
  EXPECT_EQ(answer.outcome, metrics::Outcome::kOk);
  EXPECT_EQ(answer.content_type, "application/json");
  EXPECT_EQ(answer.body,
            R"({"Nodes":null,"NodeNames":["node-a","node-b"],"FailedNodes":{},)"
            R"("FailedAndUnresolvableNodes":{},"Error":""})");
  const auto notes = state_.notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].first,
            (core::PodKey{"default/sgx-small", "b1384c01-e267-4a96-85e7-e55bc97b8f3d"}));
  EXPECT_EQ(notes[0].second, (core::PodRequest{16 * kMi, 1, 0}));
}

TEST_F(ExtenderRoutesTest, prioritize_answers_with_a_list_and_notes_the_pod) {
  // Default policy BestFit: node-a 10, node-b 6 (see prioritize_test.cc for the arithmetic).
  const Answer answer = call(HttpMethod::kPost, "/sgx/prioritize",
                             test::recorded("prioritize-request-nodelist.json"));
  EXPECT_EQ(answer.verb, metrics::Verb::kPrioritize);
  EXPECT_EQ(answer.body, R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":6}])");
  EXPECT_EQ(state_.notes().size(), 1u);
}

// FragmentationAware (formula in extender/core/score/fragmentation_aware.h) scores against the mix
// of the pods the table's prioritize route has seen, on any connection. node-a has 128Mi free,
// node-b 256Mi; the pod asks for 16Mi.
//   First pod, mix {16Mi: 1}: Δ = 0 on both (16Mi fits before and after), tie broken by BestFit's
//   EPC score, 16·10^6/128 = 125000 vs 16·10^6/256 = 62500 → shifted raw 62501 vs 1 → a 10, b 0.
//   After 100 pods of 120Mi on another connection and the 16Mi pod again (half-life 500):
//   w120 = Σ_{i=1..100} 2^(−i/500) = 93.31, w16 = 2^(−101/500) + 1 = 1.87 → P(120Mi) = 0.980.
//   node-a: F(128Mi) = 0, after F(112Mi) = 0.980 · 112Mi → Δ = +110Mi (a hole 120Mi pods can't use)
//   node-b: F(256Mi) = 0, F(240Mi) = 0                    → Δ = 0 → a 0, b 10.
TEST_F(ExtenderRoutesTest, fragmentation_aware_prioritize_remembers_the_pod_mix) {
  config_.policy = core::score::PolicyKind::kFragmentationAware;
  RouteTable table;
  add_extender_routes(table, config_, state_, metrics_, {});
  const auto body = [](std::string_view epc) {
    return std::string(R"({"Pod":{"spec":{"containers":[{"name":"app","resources":{"requests":{)") +
           R"("sgx.intel.com/epc":")" + std::string(epc) +
           R"("}}}]}},"NodeNames":["node-a","node-b"]})";
  };
  EXPECT_EQ(call_on(table, context_, HttpMethod::kPost, "/sgx/prioritize", body("16Mi")).body,
            R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":0}])");
  ConnectionContext other(1 << 20);
  for (int i = 0; i < 100; ++i) {
    call_on(table, other, HttpMethod::kPost, "/sgx/prioritize", body("120Mi"));
  }
  EXPECT_EQ(call_on(table, context_, HttpMethod::kPost, "/sgx/prioritize", body("16Mi")).body,
            R"([{"Host":"node-a","Score":0},{"Host":"node-b","Score":10}])");
}

TEST_F(ExtenderRoutesTest, pods_without_sgx_are_not_noted) {
  call(HttpMethod::kPost, "/sgx/filter", R"({"Pod":{"metadata":{"name":"web"}},"NodeNames":["node-a"]})");
  EXPECT_TRUE(state_.notes().empty());
}

TEST_F(ExtenderRoutesTest, malformed_filter_body_is_200_with_error) {
  const Answer answer = call(HttpMethod::kPost, "/sgx/filter", "{\"Pod\":");
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.outcome, metrics::Outcome::kError);
  const auto reply = boost::json::parse(answer.body).as_object();
  EXPECT_THAT(std::string(reply.at("Error").as_string()), HasSubstr("malformed JSON"));
  EXPECT_EQ(reply.at("NodeNames"), boost::json::array{});
  EXPECT_TRUE(state_.notes().empty());
}

TEST_F(ExtenderRoutesTest, bad_quantity_in_prioritize_is_an_empty_list) {
  const Answer answer = call(
      HttpMethod::kPost, "/sgx/prioritize",
      R"({"Pod":{"spec":{"containers":[{"name":"a","resources":{"requests":{"sgx.intel.com/epc":"-1"}}}]}},"NodeNames":["node-a"]})");
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.outcome, metrics::Outcome::kError);
  EXPECT_EQ(answer.body, "[]");
}

TEST_F(ExtenderRoutesTest, operational_endpoints) {
  const Answer health = call(HttpMethod::kGet, "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok");

  EXPECT_EQ(call(HttpMethod::kGet, "/readyz").status, 200u);
  serving_ = false;
  const Answer not_ready = call(HttpMethod::kGet, "/readyz");
  EXPECT_EQ(not_ready.status, 503u);
  EXPECT_EQ(not_ready.outcome, metrics::Outcome::kError);

  const Answer scrape = call(HttpMethod::kGet, "/metrics");
  EXPECT_EQ(scrape.status, 200u);
  EXPECT_EQ(scrape.content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(scrape.body, metrics_.serialize());
}

TEST_F(ExtenderRoutesTest, wrong_method_and_unknown_path) {
  EXPECT_EQ(call(HttpMethod::kGet, "/sgx/filter").status, 405u);
  EXPECT_EQ(call(HttpMethod::kPost, "/healthz").status, 405u);
  EXPECT_EQ(call(HttpMethod::kPost, "/sgx/preempt").status, 404u);
  EXPECT_EQ(call(HttpMethod::kPost, "/filter").status, 404u);
}

TEST(NormalizeUrlPrefix, follows_kube_scheduler_joining) {
  EXPECT_EQ(normalize_url_prefix("/sgx"), "/sgx");
  EXPECT_EQ(normalize_url_prefix("/sgx/"), "/sgx");
  EXPECT_EQ(normalize_url_prefix("sgx//"), "/sgx");
  EXPECT_EQ(normalize_url_prefix("/a/b"), "/a/b");
  EXPECT_EQ(normalize_url_prefix("/"), "");
  EXPECT_EQ(normalize_url_prefix(""), "");
}

}  // namespace
}  // namespace epc::http
