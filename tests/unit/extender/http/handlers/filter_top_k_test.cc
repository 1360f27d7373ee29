// The one-round-trip filter (HandlerSettings::filter_top_k): only the k best-scored nodes that fit
// are returned, ties at the cut by the pod's UID, and every failed node keeps its reason.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/core/score/top_tie_break.h"
#include "extender/http/codec/extender_args.h"
#include "extender/http/handlers/filter.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

namespace json = boost::json;
using test::kMi;
using test::kNowNs;

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

class FilterTopKTest : public ::testing::Test {
 protected:
  json::object run(const std::string& body, const state::ClusterSnapshot& snapshot, std::size_t k) {
    settings_.stale_after_ns = 30'000'000'000;
    settings_.filter_top_k = k;
    body_.assign(body);
    auto args = decoder_.decode(body_, settings_.pod_request);
    EXPECT_TRUE(args.ok()) << args.error().message;
    if (!args.ok()) {
      return {};
    }
    filter(*args, snapshot, settings_, kNowNs, scratch_, reply_);
    return json::parse(reply_).as_object();
  }

  HandlerSettings settings_;
  codec::PaddedBuffer body_;
  codec::ExtenderArgsDecoder decoder_{1 << 20};
  HandlerScratch scratch_;
  std::string reply_;
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

}  // namespace
}  // namespace epc::http::handlers
