#include "extender/http/handlers/prioritize.h"

#include <gtest/gtest.h>

#include <string>

#include "extender/http/codec/extender_args.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

using core::score::PolicyKind;
using test::kMi;
using test::kNowNs;

class PrioritizeTest : public ::testing::Test {
 protected:
  std::string run(std::string_view body, const state::Snapshot& snapshot) {
    body_.assign(body);
    auto args = decoder_.decode(body_, settings_.pod_request);
    EXPECT_TRUE(args.ok()) << args.error().message;
    if (!args.ok()) {
      return {};
    }
    prioritize(*args, snapshot, settings_, kNowNs, scratch_, reply_);
    return reply_;
  }

  static HandlerSettings make_settings() {
    HandlerSettings settings;
    settings.policy = PolicyKind::kLeastAllocated;
    settings.weights.epc = 1;
    settings.weights.enclave_slots = 1;
    settings.stale_after_ns = 30'000'000'000;  // 30 s
    return settings;
  }

  HandlerSettings settings_ = make_settings();
  codec::PaddedBuffer body_;
  codec::ExtenderArgsDecoder decoder_{1 << 20};
  HandlerScratch scratch_;
  std::string reply_;
};

// Recorded prioritize (full mode, node-a and node-b); pod 16Mi + 1 slot.
// LeastAllocated, weights 1/1, raw = avg over EPC and slots of (capacity − requested)·100/capacity:
//   node-a: EPC (128−16)·100/128 = 87, slots (20−1)·100/20 = 95 → (87+95)/2 = 91
//   node-b: EPC (256−16)·100/256 = 93, slots 95             → (93+95)/2 = 94
// normalised (best = 10): node-a 91·10/94 = 9, node-b 10.
TEST_F(PrioritizeTest, recorded_body_least_allocated) {
  EXPECT_EQ(run(test::recorded("prioritize-request-nodelist.json"), test::recorded_cluster()),
            R"([{"Host":"node-a","Score":9},{"Host":"node-b","Score":10}])");
}

// BestFit, weights 1/1, raw = avg of request·10^6/free:
//   node-a: EPC 16·10^6/128 = 125000, slots 1·10^6/20 = 50000 → 87500
//   node-b: EPC 16·10^6/256 = 62500,  slots 50000             → 56250
// normalised: node-a 10, node-b 56250·10/87500 = 6.
TEST_F(PrioritizeTest, recorded_body_best_fit) {
  settings_.policy = PolicyKind::kBestFit;
  EXPECT_EQ(run(test::recorded("prioritize-request-nodelist.json"), test::recorded_cluster()),
            R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":6}])");
}

// Nodes that do not fit get 0 and do not take part in the normalisation. In cache mode:
//   node-c: 32Mi − 20Mi = 12Mi free < 16Mi → 0;  "ghost": unknown → 0;
//   node-a 9 and node-b 10 as in recorded_body_least_allocated (max raw is node-b's 94).
TEST_F(PrioritizeTest, unfit_and_unknown_nodes_score_zero_in_request_order) {
  state::Snapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  snapshot.add(test::info("node-b"), test::sgx_row(256));
  core::NodeRow busy = test::sgx_row(32);
  busy.epc_requested_bytes = 20 * kMi;
  snapshot.add(test::info("node-c"), busy);
  std::string body = test::recorded("filter-request-nodenames.json");
  const std::string names = R"("NodeNames":["node-a","node-b"])";
  body.replace(body.find(names), names.size(),
               R"("NodeNames":["node-c","node-b","ghost","node-a"])");
  EXPECT_EQ(run(body, snapshot),
            R"([{"Host":"node-c","Score":0},{"Host":"node-b","Score":10},)"
            R"({"Host":"ghost","Score":0},{"Host":"node-a","Score":9}])");
}

// Only node-a fits (node-b is stale): it alone is the best → 10.
TEST_F(PrioritizeTest, single_fitting_node_gets_ten) {
  state::Snapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  core::NodeRow stale = test::sgx_row(256);
  stale.report_time_ns = kNowNs - 60'000'000'000;
  snapshot.add(test::info("node-b"), stale);
  EXPECT_EQ(run(test::recorded("filter-request-nodenames.json"), snapshot),
            R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":0}])");
}

TEST_F(PrioritizeTest, pod_without_sgx_gets_zero_everywhere) {
  EXPECT_EQ(run(R"({"Pod":{"spec":{"containers":[{"name":"web"}]}},"NodeNames":["node-a","node-b"]})",
                test::recorded_cluster()),
            R"([{"Host":"node-a","Score":0},{"Host":"node-b","Score":0}])");
}

TEST_F(PrioritizeTest, no_candidates_is_an_empty_list) {
  EXPECT_EQ(run(R"({"Pod":{},"NodeNames":null})", test::recorded_cluster()), "[]");
}

TEST_F(PrioritizeTest, hosts_are_json_escaped) {
  EXPECT_EQ(run(R"({"Pod":{},"NodeNames":["a\"b"]})", test::recorded_cluster()),
            R"([{"Host":"a\"b","Score":0}])");
}

TEST(PrioritizeError, is_an_empty_list) {
  std::string reply = "old";
  write_prioritize_error(reply);
  EXPECT_EQ(reply, "[]");
}

}  // namespace
}  // namespace epc::http::handlers
