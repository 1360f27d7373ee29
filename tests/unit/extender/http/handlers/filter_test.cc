#include "extender/http/handlers/filter.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/core/score/top_tie_break.h"
#include "extender/http/codec/extender_args.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

namespace json = boost::json;
using test::kMi;
using test::kNowNs;

// Runs decode + filter over `body` against `snapshot`; returns the reply text.
class FilterTest : public ::testing::Test {
 protected:
  std::string run(std::string_view body, const state::ClusterSnapshot& snapshot) {
    body_.assign(body);
    auto args = decoder_.decode(body_, settings_.pod_request);
    EXPECT_TRUE(args.ok()) << args.error().message;
    if (!args.ok()) {
      return {};
    }
    filter(*args, snapshot, settings_, kNowNs, scratch_, reply_);
    return reply_;
  }

  json::object run_json(std::string_view body, const state::ClusterSnapshot& snapshot) {
    return json::parse(run(body, snapshot)).as_object();
  }

  static HandlerSettings make_settings() {
    HandlerSettings settings;
    settings.stale_after_ns = 30'000'000'000;  // 30 s
    return settings;
  }

  HandlerSettings settings_ = make_settings();
  codec::PaddedBuffer body_;
  codec::ExtenderArgsDecoder decoder_{1 << 20};
  HandlerScratch scratch_;
  std::string reply_;
};

json::array names_array(std::initializer_list<const char*> names) {
  json::array out;
  for (const char* name : names) {
    out.emplace_back(name);
  }
  return out;
}

// The recorded Node objects i, j, ... of a full-mode request, as kube-scheduler expects them back.
json::value items_of(const std::string& body, std::initializer_list<std::size_t> indexes) {
  json::array items;
  for (std::size_t i : indexes) {
    items.push_back(test::request_item(body, i));
  }
  return json::object{{"metadata", json::object{}}, {"items", std::move(items)}};
}

// ------------------------------------------------------------------------------------------------
// The recorded bodies against the cluster they were recorded on (node-a 128Mi, node-b 256Mi,
// node-c 32Mi, 20 slots each). The pod needs 16Mi + 1 enclave slot.

TEST_F(FilterTest, recorded_node_names_all_fit_exact_reply) {
  // 16Mi ≤ free 128Mi / 256Mi and 1 ≤ 20 free slots on both candidates.
  EXPECT_EQ(run(test::recorded("filter-request-nodenames.json"), test::recorded_cluster()),
            R"({"Nodes":null,"NodeNames":["node-a","node-b"],"FailedNodes":{},)"
            R"("FailedAndUnresolvableNodes":{},"Error":""})");
}

class RecordedNodeListFilterTest : public FilterTest,
                                   public ::testing::WithParamInterface<const char*> {};

TEST_P(RecordedNodeListFilterTest, all_fit_and_every_node_object_is_echoed) {
  const std::string body = test::recorded(GetParam());
  const json::object reply = run_json(body, test::recorded_cluster());
  EXPECT_EQ(reply.at("Nodes"), items_of(body, {0, 1, 2}));
  EXPECT_EQ(reply.at("NodeNames"), names_array({"node-a", "node-b", "node-c"}));
  EXPECT_EQ(reply.at("FailedNodes"), json::object{});
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"), json::object{});
  EXPECT_EQ(reply.at("Error"), "");
  EXPECT_EQ(reply.size(), 5u);
}

TEST_P(RecordedNodeListFilterTest, busy_node_c_fails_resolvably_and_is_not_echoed) {
  // node-c: 32Mi − 20Mi requested = 12Mi free < 16Mi, capacity 32Mi ≥ 16Mi → resolvable.
  const std::string body = test::recorded(GetParam());
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  snapshot.add(test::info("node-b"), test::sgx_row(256));
  core::NodeRow busy = test::sgx_row(32);
  busy.epc_requested_bytes = 20 * kMi;
  snapshot.add(test::info("node-c"), busy);

  const std::string text = run(body, snapshot);
  const json::object reply = json::parse(text).as_object();
  EXPECT_EQ(reply.at("Nodes"), items_of(body, {0, 1}));
  EXPECT_EQ(reply.at("NodeNames"), names_array({"node-a", "node-b"}));
  EXPECT_EQ(reply.at("FailedNodes"), (json::object{{"node-c", "insufficient free SGX EPC"}}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"), json::object{});
  EXPECT_EQ(reply.at("Error"), "");
  // The survivors are echoed byte for byte, not re-serialised.
  auto args = decoder_.decode(body_, {});
  ASSERT_TRUE(args.ok());
  const std::string expected_nodes = R"({"Nodes":{"metadata":{},"items":[)" +
                                     std::string(args->node_items[0]) + "," +
                                     std::string(args->node_items[1]) + "]},";
  EXPECT_EQ(text.substr(0, expected_nodes.size()), expected_nodes);
}

TEST_P(RecordedNodeListFilterTest, node_c_without_report_is_unresolvable) {
  const std::string body = test::recorded(GetParam());
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  snapshot.add(test::info("node-b"), test::sgx_row(256));
  const json::object reply = run_json(body, snapshot);
  EXPECT_EQ(reply.at("Nodes"), items_of(body, {0, 1}));
  EXPECT_EQ(reply.at("NodeNames"), names_array({"node-a", "node-b"}));
  EXPECT_EQ(reply.at("FailedNodes"), json::object{});
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"node-c", "no EPC report from node"}}));
}

TEST_P(RecordedNodeListFilterTest, node_c_too_small_for_the_pod_is_unresolvable) {
  // node-c with 8Mi EPC: 16Mi > capacity 8Mi → preemption cannot help.
  const std::string body = test::recorded(GetParam());
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  snapshot.add(test::info("node-b"), test::sgx_row(256));
  snapshot.add(test::info("node-c"), test::sgx_row(8));
  const json::object reply = run_json(body, snapshot);
  EXPECT_EQ(reply.at("NodeNames"), names_array({"node-a", "node-b"}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"node-c", "SGX EPC capacity too small for pod"}}));
}

INSTANTIATE_TEST_SUITE_P(Recorded, RecordedNodeListFilterTest,
                         ::testing::Values("filter-request-nodelist.json",
                                           "filter-request-nodelist-k8s1.36.json"));

TEST_F(FilterTest, full_mode_with_nothing_surviving_has_empty_items_and_names) {
  const std::string body = test::recorded("filter-request-nodelist.json");
  const json::object reply = run_json(body, state::ClusterSnapshot{});
  EXPECT_EQ(reply.at("Nodes"),
            (json::object{{"metadata", json::object{}}, {"items", json::array{}}}));
  EXPECT_EQ(reply.at("NodeNames"), json::array{});
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes").as_object().size(), 3u);
}

// ------------------------------------------------------------------------------------------------
// Every reason: which map it lands in and its text. Pod: 16Mi + 1 enclave slot (recorded body).

struct ReasonRow {
  const char* name;
  core::NodeRow row;
  const char* map;  // "FailedNodes" or "FailedAndUnresolvableNodes"
  const char* text;
};

core::NodeRow modified(void (*change)(core::NodeRow&)) {
  core::NodeRow row = test::sgx_row(128);
  change(row);
  return row;
}

class FilterReasonTest : public FilterTest, public ::testing::WithParamInterface<ReasonRow> {};

TEST_P(FilterReasonTest, reason_text_and_map) {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  snapshot.add(test::info("node-b"), GetParam().row);
  const json::object reply = run_json(test::recorded("filter-request-nodenames.json"), snapshot);
  EXPECT_EQ(reply.at("NodeNames"), names_array({"node-a"}));
  const char* other = std::string_view(GetParam().map) == "FailedNodes"
                          ? "FailedAndUnresolvableNodes"
                          : "FailedNodes";
  EXPECT_EQ(reply.at(GetParam().map), (json::object{{"node-b", GetParam().text}}));
  EXPECT_EQ(reply.at(other), json::object{});
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, FilterReasonTest,
    ::testing::Values(
        // Never reported (row exists, e.g. name seen in a ledger only).
        ReasonRow{"no_report", modified([](core::NodeRow& r) { r.ever_reported = false; }),
                  "FailedAndUnresolvableNodes", "no EPC report from node"},
        ReasonRow{"no_sgx", modified([](core::NodeRow& r) { r.has_sgx = false; }),
                  "FailedAndUnresolvableNodes", "no SGX on node"},
        // 16Mi > 8Mi capacity.
        ReasonRow{"epc_capacity", test::sgx_row(8), "FailedAndUnresolvableNodes",
                  "SGX EPC capacity too small for pod"},
        // 1 slot > 0 slots total.
        ReasonRow{"no_enclave_slots", modified([](core::NodeRow& r) { r.enclave_slots_total = 0; }),
                  "FailedAndUnresolvableNodes", "too few SGX enclave slots on node"},
        ReasonRow{"unhealthy",
                  modified([](core::NodeRow& r) { r.health = core::NodeHealth::kUnhealthy; }),
                  "FailedNodes", "SGX devices unhealthy"},
        // Reported 31 s before now, stale after 30 s.
        ReasonRow{"stale",
                  modified([](core::NodeRow& r) { r.report_time_ns = kNowNs - 31'000'000'000; }),
                  "FailedNodes", "EPC report too old"},
        // 128Mi − 120Mi = 8Mi free < 16Mi.
        ReasonRow{"epc_full", modified([](core::NodeRow& r) { r.epc_requested_bytes = 120 * kMi; }),
                  "FailedNodes", "insufficient free SGX EPC"},
        // Live use counts when it is above the ledger: 128Mi − 115Mi = 13Mi free < 16Mi.
        ReasonRow{"live_use", modified([](core::NodeRow& r) {
                    r.live_used_known = true;
                    r.epc_live_used_bytes = 115 * kMi;
                  }),
                  "FailedNodes", "insufficient free SGX EPC"},
        // 20 of 20 slots used.
        ReasonRow{"slots_full", modified([](core::NodeRow& r) { r.enclave_slots_used = 20; }),
                  "FailedNodes", "no free SGX enclave slots"}),
    [](const ::testing::TestParamInfo<ReasonRow>& param) { return std::string(param.param.name); });

TEST_F(FilterTest, provision_slot_reasons) {
  const std::string body =
      R"({"Pod":{"spec":{"containers":[{"name":"q","resources":{"requests":{"sgx.intel.com/provision":"1"}}}]}},"NodeNames":["full","none"]})";
  state::ClusterSnapshot snapshot;
  core::NodeRow full = test::sgx_row(64);
  full.provision_slots_used = 20;
  core::NodeRow none = test::sgx_row(64);
  none.provision_slots_total = 0;
  snapshot.add(test::info("full"), full);
  snapshot.add(test::info("none"), none);
  const json::object reply = run_json(body, snapshot);
  EXPECT_EQ(reply.at("FailedNodes"), (json::object{{"full", "no free SGX provision slots"}}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"none", "too few SGX provision slots on node"}}));
}

// ------------------------------------------------------------------------------------------------

TEST_F(FilterTest, pod_without_sgx_passes_every_node_even_unknown_ones) {
  const std::string body =
      R"({"Pod":{"spec":{"containers":[{"name":"web","resources":{"requests":{"cpu":"1"}}}]}},"NodeNames":["node-a","nowhere"]})";
  EXPECT_EQ(run(body, test::recorded_cluster()),
            R"({"Nodes":null,"NodeNames":["node-a","nowhere"],"FailedNodes":{},)"
            R"("FailedAndUnresolvableNodes":{},"Error":""})");
}

TEST_F(FilterTest, no_candidates_still_gives_an_array) {
  EXPECT_EQ(run(R"({"Pod":{},"Nodes":null,"NodeNames":null})", test::recorded_cluster()),
            R"({"Nodes":null,"NodeNames":[],"FailedNodes":{},)"
            R"("FailedAndUnresolvableNodes":{},"Error":""})");
}

TEST_F(FilterTest, node_names_are_json_escaped) {
  const std::string body =
      R"({"Pod":{"spec":{"containers":[{"resources":{"requests":{"sgx.intel.com/epc":"1Mi"}}}]}},"NodeNames":["q\"uote","back\\slash"]})";
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("q\"uote"), test::sgx_row(64));
  const json::object reply = run_json(body, snapshot);
  EXPECT_EQ(reply.at("NodeNames"), names_array({"q\"uote"}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"back\\slash", "no EPC report from node"}}));
}

TEST_F(FilterTest, scratch_and_reply_are_reused_across_requests) {
  const state::ClusterSnapshot snapshot = test::recorded_cluster();
  const std::string first = run(test::recorded("filter-request-nodelist.json"), snapshot);
  const std::string second = run(test::recorded("filter-request-nodenames.json"), snapshot);
  EXPECT_NE(first, second);
  EXPECT_EQ(second, R"({"Nodes":null,"NodeNames":["node-a","node-b"],"FailedNodes":{},)"
                    R"("FailedAndUnresolvableNodes":{},"Error":""})");
}

// ------------------------------------------------------------------------------------------------
// The one-round-trip filter (HandlerSettings::filter_top_k): only the k best-scored nodes that fit
// are returned, ties at the cut by the pod's UID, and every failed node keeps its reason.
// A cache-mode request for a pod of 16Mi EPC + 1 enclave slot with this UID over `names`.
std::string names_request(const std::vector<std::string>& names, std::string_view uid = "uid-1") {
  json::array list;
  for (const std::string& name : names) {
    list.emplace_back(name);
  }
  const json::object pod{
      {"metadata", {{"name", "p"}, {"namespace", "default"}, {"uid", uid}}},
      {"spec",
       {{"containers",
         json::array{{{"name", "c"},
                      {"resources",
                       {{"requests",
                         {{"sgx.intel.com/epc", "16Mi"}, {"sgx.intel.com/enclave", "1"}}}}}}}}}}};
  return json::serialize(json::object{{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", list}});
}

// The same pod in non-cache mode: full Node objects in Nodes.items.
std::string items_request(const std::vector<std::string>& names) {
  json::object args = json::parse(names_request(names)).as_object();
  json::array items;
  for (const std::string& name : names) {
    items.push_back(json::object{{"metadata", {{"name", name}, {"labels", {{"n", name}}}}}});
  }
  args["Nodes"] = json::object{{"items", items}};
  args["NodeNames"] = nullptr;
  return json::serialize(args);
}

core::NodeRow used_row(std::int64_t capacity_mi, std::int64_t requested_mi) {
  core::NodeRow row = test::sgx_row(capacity_mi);
  row.epc_requested_bytes = requested_mi * kMi;
  return row;
}

std::vector<std::string> names_of(const json::value& names) {
  std::vector<std::string> out;
  for (const json::value& name : names.as_array()) {
    out.emplace_back(name.as_string());
  }
  return out;
}

// The same fixture with the one-round-trip cut at k.
class FilterTopKTest : public FilterTest {
 protected:
  json::object run(const std::string& body, const state::ClusterSnapshot& snapshot, std::size_t k) {
    settings_.filter_top_k = k;
    return run_json(body, snapshot);
  }
};

// Free EPC after use: a 112, b 20, c 40, d 200, e 17, f 64 (MiB). BestFit keeps the tightest.
state::ClusterSnapshot six_nodes() {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("a"), used_row(128, 16));
  snapshot.add(test::info("b"), used_row(128, 108));
  snapshot.add(test::info("c"), used_row(64, 24));
  snapshot.add(test::info("d"), used_row(256, 56));
  snapshot.add(test::info("e"), used_row(32, 15));
  snapshot.add(test::info("f"), used_row(64, 0));
  return snapshot;
}

TEST_F(FilterTopKTest, KeepsTheKTightestFitsInRequestOrderAndDropsTheRestWithoutReasons) {
  const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};
  const json::object reply = run(names_request(names), six_nodes(), 3);
  EXPECT_THAT(names_of(reply.at("NodeNames")), ::testing::ElementsAre("b", "c", "e"));
  EXPECT_EQ(reply.at("FailedNodes"), json::object{});
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"), json::object{});
  EXPECT_EQ(reply.at("Nodes"), nullptr);
  EXPECT_EQ(reply.at("Error"), "");
}

TEST_F(FilterTopKTest, OffOrFewerFitsThanKReturnsEveryNodeThatFits) {
  const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};
  EXPECT_EQ(names_of(run(names_request(names), six_nodes(), 0).at("NodeNames")), names);
  EXPECT_EQ(names_of(run(names_request(names), six_nodes(), 6).at("NodeNames")), names);
  EXPECT_EQ(names_of(run(names_request(names), six_nodes(), 60).at("NodeNames")), names);
}

TEST_F(FilterTopKTest, FailedNodesKeepTheirReasonsBesideTheCut) {
  state::ClusterSnapshot snapshot = six_nodes();
  snapshot.add(test::info("full"), used_row(128, 120));  // 8Mi free < 16Mi: resolvable
  snapshot.add(test::info("tiny"), used_row(8, 0));      // capacity < 16Mi: unresolvable
  const std::vector<std::string> names{"full", "a", "b", "tiny", "c", "d", "gone", "e", "f"};
  const json::object reply = run(names_request(names), snapshot, 2);
  EXPECT_THAT(names_of(reply.at("NodeNames")), ::testing::ElementsAre("b", "e"));
  EXPECT_EQ(reply.at("FailedNodes"), (json::object{{"full", "insufficient free SGX EPC"}}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"tiny", "SGX EPC capacity too small for pod"},
                          {"gone", "no EPC report from node"}}));
}

TEST_F(FilterTopKTest, WhenNoNodeFitsEveryNodeKeepsItsRealReason) {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("full"), used_row(128, 120));
  core::NodeRow stale = test::sgx_row(128);
  stale.report_time_ns = kNowNs - 31'000'000'000;
  snapshot.add(test::info("stale"), stale);
  snapshot.add(test::info("tiny"), used_row(8, 0));
  const json::object reply = run(names_request({"full", "stale", "tiny", "gone"}), snapshot, 1);
  EXPECT_EQ(reply.at("NodeNames"), json::array{});
  EXPECT_EQ(reply.at("FailedNodes"),
            (json::object{{"full", "insufficient free SGX EPC"}, {"stale", "EPC report too old"}}));
  EXPECT_EQ(reply.at("FailedAndUnresolvableNodes"),
            (json::object{{"tiny", "SGX EPC capacity too small for pod"},
                          {"gone", "no EPC report from node"}}));
}

TEST_F(FilterTopKTest, FullNodeModeEchoesOnlyTheKeptNodeObjects) {
  const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};
  const json::object reply = run(items_request(names), six_nodes(), 2);
  EXPECT_THAT(names_of(reply.at("NodeNames")), ::testing::ElementsAre("b", "e"));
  const json::array& items = reply.at("Nodes").at("items").as_array();
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0].at("metadata").at("name"), "b");
  EXPECT_EQ(items[0].at("metadata").at("labels").at("n"), "b");  // verbatim
  EXPECT_EQ(items[1].at("metadata").at("name"), "e");
}

TEST_F(FilterTopKTest, TiesAtTheCutFollowThePodUidAndTheTopTieBreakRule) {
  // Eight identical empty nodes: every one scores the same, so the UID alone decides.
  state::ClusterSnapshot snapshot;
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i) {
    names.push_back("n" + std::to_string(i));
    snapshot.add(test::info(names.back()), test::sgx_row(128));
  }
  std::set<std::string> seen;
  for (int pod = 0; pod < 40; ++pod) {
    const std::string uid = "uid-" + std::to_string(pod);
    const std::vector<std::string> kept =
        names_of(run(names_request(names, uid), snapshot, 3).at("NodeNames"));
    // Expected: the three smallest tie_break_rank(hash(uid), table index), in request order.
    const std::uint64_t salt = core::score::stable_hash(uid);
    std::vector<std::size_t> order{0, 1, 2, 3, 4, 5, 6, 7};
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return core::score::tie_break_rank(salt, a) < core::score::tie_break_rank(salt, b);
    });
    order.resize(3);
    std::sort(order.begin(), order.end());
    std::vector<std::string> expected;
    for (const std::size_t i : order) {
      expected.push_back(names[i]);
    }
    EXPECT_EQ(kept, expected) << uid;
    // The same pod again (a retry): the same cut.
    EXPECT_EQ(names_of(run(names_request(names, uid), snapshot, 3).at("NodeNames")), kept);
    seen.insert(kept.begin(), kept.end());
  }
  EXPECT_EQ(seen.size(), 8U);  // different pods spread over the tied nodes
}

TEST_F(FilterTopKTest, PodWithoutSgxPassesEveryNodeUncut) {
  const std::string body =
      R"({"Pod":{"spec":{"containers":[{"name":"web","resources":{"requests":{"cpu":"1"}}}]}},"NodeNames":["a","b","c","nowhere"]})";
  const json::object reply = run(body, six_nodes(), 1);
  EXPECT_THAT(names_of(reply.at("NodeNames")), ::testing::ElementsAre("a", "b", "c", "nowhere"));
}

TEST_F(FilterTopKTest, ScratchReusedAcrossCutAndUncutRequests) {
  const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};
  EXPECT_EQ(names_of(run(names_request(names), six_nodes(), 1).at("NodeNames")),
            std::vector<std::string>{"e"});
  EXPECT_EQ(names_of(run(names_request(names), six_nodes(), 0).at("NodeNames")), names);
  EXPECT_EQ(names_of(run(names_request(names), six_nodes(), 1).at("NodeNames")),
            std::vector<std::string>{"e"});
}

TEST(FilterError, reply_has_every_key_and_the_escaped_message) {
  std::string reply = "stale content";
  write_filter_error(R"(container "app": bad)", reply);
  EXPECT_EQ(reply,
            R"({"Nodes":null,"NodeNames":[],"FailedNodes":{},"FailedAndUnresolvableNodes":{},)"
            R"("Error":"container \"app\": bad"})");
}

}  // namespace
}  // namespace epc::http::handlers
