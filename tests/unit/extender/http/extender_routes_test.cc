#include "extender/http/extender_routes.h"

#include <memory>
#include <string>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/http/connection_context.h"
#include "extender/state/clock.h"
#include "tests/unit/extender/http/fakes.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http {
namespace {

using test::kMi;
using ::testing::HasSubstr;

// The routes without sockets: a real RouteTable over fakes of the state and metrics. The state's
// rows report "now" (the routes read the real monotonic clock) so staleness never interferes.
class ExtenderRoutesTest : public ::testing::Test {
 protected:
  ExtenderRoutesTest() : state_(fresh_cluster()) {
    config_.url_prefix = "/sgx/";
    add_extender_routes(table_, config_, state_, metrics_, [this] { return serving_; });
  }

  static state::ClusterSnapshot fresh_cluster() {
    state::ClusterSnapshot snapshot;
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

TEST_F(ExtenderRoutesTest, filter_answers_and_sends_the_pods_demand_to_the_writer) {
  const Answer answer =
      call(HttpMethod::kPost, "/sgx/filter", test::recorded("filter-request-nodenames.json"));
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.verb, metrics::Verb::kFilter);
  EXPECT_EQ(answer.outcome, metrics::Outcome::kOk);
  EXPECT_EQ(answer.content_type, "application/json");
  EXPECT_EQ(answer.body, R"({"Nodes":null,"NodeNames":["node-a","node-b"],"FailedNodes":{},)"
                         R"("FailedAndUnresolvableNodes":{},"Error":""})");
  const auto observations = state_.observations();
  ASSERT_EQ(observations.size(), 1u);
  EXPECT_TRUE(observations[0].note_request);
  EXPECT_FALSE(observations[0].join_mix);  // only prioritize feeds the mix
  EXPECT_EQ(observations[0].pod,
            (core::PodKey{"default/sgx-small", "b1384c01-e267-4a96-85e7-e55bc97b8f3d"}));
  EXPECT_EQ(observations[0].request, (core::PodRequest{16 * kMi, 1, 0}));
}

// kube-scheduler asks filter, then prioritize, for the same pod on one connection, and retries pods
// with the same spec: the connection sends the writer the demand once. Another connection, or
// another demand for the pod, sends it again.
TEST_F(ExtenderRoutesTest, a_connection_sends_a_pods_demand_once) {
  const std::string filter_body = test::recorded("filter-request-nodenames.json");
  call(HttpMethod::kPost, "/sgx/filter", filter_body);
  call(HttpMethod::kPost, "/sgx/prioritize", test::recorded("prioritize-request-nodelist.json"));
  call(HttpMethod::kPost, "/sgx/filter", filter_body);
  EXPECT_EQ(state_.observations().size(), 1u);

  ConnectionContext other(1 << 20);
  call_on(table_, other, HttpMethod::kPost, "/sgx/filter", filter_body);
  ASSERT_EQ(state_.observations().size(), 2u);
  EXPECT_TRUE(state_.observations()[1].note_request);

  std::string bigger = filter_body;  // requests and limits both 16Mi → 32Mi
  for (auto at = bigger.find("16Mi"); at != std::string::npos; at = bigger.find("16Mi", at)) {
    bigger.replace(at, 4, "32Mi");
  }
  call(HttpMethod::kPost, "/sgx/filter", bigger);
  ASSERT_EQ(state_.observations().size(), 3u);
  EXPECT_EQ(state_.observations()[2].request.epc_bytes, 32 * kMi);
}

// With FragmentationAware every prioritize adds the pod to the mix (one per scheduling attempt),
// but the demand already noted by this connection's filter is not sent again: the second
// observation carries only the mix part, and no pod key was built for it.
TEST_F(ExtenderRoutesTest, fragmentation_aware_prioritize_sends_each_attempt_to_the_mix) {
  config_.policy = core::score::PolicyKind::kFragmentationAware;
  RouteTable table;
  add_extender_routes(table, config_, state_, metrics_, {});
  call_on(table, context_, HttpMethod::kPost, "/sgx/filter",
          test::recorded("filter-request-nodenames.json"));
  call_on(table, context_, HttpMethod::kPost, "/sgx/prioritize",
          test::recorded("prioritize-request-nodelist.json"));
  call_on(table, context_, HttpMethod::kPost, "/sgx/prioritize",
          test::recorded("prioritize-request-nodelist.json"));
  const auto observations = state_.observations();
  ASSERT_EQ(observations.size(), 3u);
  EXPECT_TRUE(observations[0].note_request);
  EXPECT_FALSE(observations[0].join_mix);
  for (int i = 1; i < 3; ++i) {
    EXPECT_FALSE(observations[i].note_request);
    EXPECT_TRUE(observations[i].join_mix);
    EXPECT_TRUE(observations[i].pod.namespace_name.empty());
    EXPECT_EQ(observations[i].request, (core::PodRequest{16 * kMi, 1, 0}));
  }
}

TEST_F(ExtenderRoutesTest, prioritize_answers_with_a_list_and_sends_the_pods_demand) {
  // Default policy BestFit: node-a 10, node-b 6 (see prioritize_test.cc for the arithmetic).
  const Answer answer = call(HttpMethod::kPost, "/sgx/prioritize",
                             test::recorded("prioritize-request-nodelist.json"));
  EXPECT_EQ(answer.verb, metrics::Verb::kPrioritize);
  EXPECT_EQ(answer.body, R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":6}])");
  ASSERT_EQ(state_.observations().size(), 1u);
  EXPECT_TRUE(state_.observations()[0].note_request);
  EXPECT_FALSE(state_.observations()[0].join_mix);  // BestFit reads no mix
}

// FragmentationAware (formula in extender/core/score/fragmentation_aware.h) scores against the mix
// of the pods the state writer has seen from prioritize, on any connection: the routes over a real
// ClusterState. node-a has 128Mi free, node-b 256Mi; the pod asks for 16Mi.
//   First pod, mix {16Mi: 1}: Δ = 0 on both (16Mi fits before and after), tie broken by BestFit's
//   EPC score, 16·10^6/128 = 125000 vs 16·10^6/256 = 62500 → shifted raw 62501 vs 1 → a 10, b 0.
//   After 100 pods of 120Mi on another connection and the 16Mi pod again (half-life 500):
//   w120 = Σ_{i=1..100} 2^(−i/500) = 93.31, w16 = 2^(−101/500) + 1 = 1.87 → P(120Mi) = 0.980.
//   node-a: F(128Mi) = 0, after F(112Mi) = 0.980 · 112Mi → Δ = +110Mi (a hole 120Mi pods can't use)
//   node-b: F(256Mi) = 0, F(240Mi) = 0                    → Δ = 0 → a 0, b 10.
TEST_F(ExtenderRoutesTest, fragmentation_aware_prioritize_scores_against_the_writers_mix) {
  config_.policy = core::score::PolicyKind::kFragmentationAware;
  state::ClusterState::Options options;
  options.keep_pod_mix = true;
  options.mix_half_life_pods = 500;
  const std::unique_ptr<state::ClusterState> cluster = state::ClusterState::create(options);
  for (auto [name, epc_mi] : {std::pair{"node-a", 128}, {"node-b", 256}}) {
    state::NodeState node;
    node.sgx_present = true;
    node.epc_capacity_bytes = epc_mi * kMi;
    node.epc_sections = {{0, epc_mi * kMi}};
    node.enclave_slots = {110, 0};
    state::ReportMessage report{name, "test", 1, "", std::move(node)};
    ASSERT_TRUE(cluster->apply(std::move(report)).ok());
  }
  RouteTable table;
  add_extender_routes(table, config_, *cluster, metrics_, {});
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
  cluster->flush();  // the writer has applied every observation sent so far
  EXPECT_EQ(cluster->snapshot()->pods_in_mix(), 101u);
  EXPECT_EQ(call_on(table, context_, HttpMethod::kPost, "/sgx/prioritize", body("16Mi")).body,
            R"([{"Host":"node-a","Score":0},{"Host":"node-b","Score":10}])");
}

TEST_F(ExtenderRoutesTest, pods_without_sgx_are_not_observed) {
  call(HttpMethod::kPost, "/sgx/filter",
       R"({"Pod":{"metadata":{"name":"web"}},"NodeNames":["node-a"]})");
  EXPECT_TRUE(state_.observations().empty());
}

TEST_F(ExtenderRoutesTest, malformed_filter_body_is_200_with_error) {
  const Answer answer = call(HttpMethod::kPost, "/sgx/filter", "{\"Pod\":");
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.outcome, metrics::Outcome::kError);
  const auto reply = boost::json::parse(answer.body).as_object();
  EXPECT_THAT(std::string(reply.at("Error").as_string()), HasSubstr("malformed JSON"));
  EXPECT_EQ(reply.at("NodeNames"), boost::json::array{});
  EXPECT_TRUE(state_.observations().empty());
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

// Before the API lists are in (an extender that just restarted), the pods bound meanwhile are not
// counted: filter and preempt of an SGX pod refuse with an Error (kube-scheduler fails the
// attempt and retries) instead of passing nodes on a partial ledger; a pod without SGX passes.
TEST_F(ExtenderRoutesTest, sgx_filter_and_preempt_refuse_until_the_sources_are_ready) {
  state::ClusterSnapshot rebuilding = fresh_cluster();
  rebuilding.set_sources_ready(false);
  test::FakeClusterState state(std::move(rebuilding));
  RouteTable table;
  add_extender_routes(table, config_, state, metrics_, {});

  const Answer filter = call_on(table, context_, HttpMethod::kPost, "/sgx/filter",
                                test::recorded("filter-request-nodenames.json"));
  EXPECT_EQ(filter.status, 200u);
  EXPECT_EQ(filter.outcome, metrics::Outcome::kError);
  const auto reply = boost::json::parse(filter.body).as_object();
  EXPECT_THAT(std::string(reply.at("Error").as_string()), HasSubstr("not ready"));
  EXPECT_EQ(reply.at("NodeNames"), boost::json::array{});

  const Answer preempt = call_on(
      table, context_, HttpMethod::kPost, "/sgx/preempt",
      R"({"Pod":{"metadata":{"name":"p","namespace":"default","uid":"u1"},"spec":{"containers":[{"name":"a","resources":{"requests":{"sgx.intel.com/epc":"16Mi"}}}]}},"NodeNameToMetaVictims":{"node-a":{"Pods":[],"NumPDBViolations":0}}})");
  EXPECT_EQ(preempt.outcome, metrics::Outcome::kError);
  EXPECT_THAT(preempt.body, HasSubstr("not ready"));

  const Answer plain = call_on(
      table, context_, HttpMethod::kPost, "/sgx/filter",
      R"({"Pod":{"metadata":{"name":"web","namespace":"default","uid":"u2"},"spec":{"containers":[{"name":"a"}]}},"NodeNames":["node-a","node-c"]})");
  EXPECT_EQ(plain.outcome, metrics::Outcome::kOk);
  EXPECT_THAT(plain.body, HasSubstr(R"("NodeNames":["node-a","node-c"])"));
}

TEST_F(ExtenderRoutesTest, wrong_method_and_unknown_path) {
  EXPECT_EQ(call(HttpMethod::kGet, "/sgx/filter").status, 405u);
  EXPECT_EQ(call(HttpMethod::kPost, "/healthz").status, 405u);
  EXPECT_EQ(call(HttpMethod::kPost, "/sgx/unknown").status, 404u);
  EXPECT_EQ(call(HttpMethod::kGet, "/sgx/bind").status, 405u);
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
