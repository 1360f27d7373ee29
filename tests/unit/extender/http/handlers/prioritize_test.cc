#include "extender/http/handlers/prioritize.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "extender/core/pod_mix.h"
#include "extender/http/codec/extender_args.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

using core::score::PolicyKind;
using test::kMi;
using test::kNowNs;

class PrioritizeTest : public ::testing::Test {
 protected:
  std::string run(std::string_view body, const state::ClusterSnapshot& snapshot) {
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
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  snapshot.add(test::info("node-b"), test::sgx_row(256));
  core::NodeRow busy = test::sgx_row(32);
  busy.epc_requested_bytes = 20 * kMi;
  snapshot.add(test::info("node-c"), busy);
  std::string body = test::recorded("filter-request-nodenames.json");
  const std::string names = R"("NodeNames":["node-a","node-b"])";
  body.replace(body.find(names), names.size(),
               R"("NodeNames":["node-c","node-b","ghost","node-a"])");
  EXPECT_EQ(run(body, snapshot), R"([{"Host":"node-c","Score":0},{"Host":"node-b","Score":10},)"
                                 R"({"Host":"ghost","Score":0},{"Host":"node-a","Score":9}])");
}

// Only node-a fits (node-b is stale): it alone is the best → 10.
TEST_F(PrioritizeTest, single_fitting_node_gets_ten) {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));
  core::NodeRow stale = test::sgx_row(256);
  stale.report_time_ns = kNowNs - 60'000'000'000;
  snapshot.add(test::info("node-b"), stale);
  EXPECT_EQ(run(test::recorded("filter-request-nodenames.json"), snapshot),
            R"([{"Host":"node-a","Score":10},{"Host":"node-b","Score":0}])");
}

// Three identical nodes tie for the best score: one keeps 10, the others get 9, chosen by the pod's
// UID, so the same pod always gets the same answer and different pods spread over the nodes.
class PrioritizeTieTest : public PrioritizeTest {
 protected:
  PrioritizeTieTest() {
    settings_.policy = PolicyKind::kBestFit;
    for (const char* name : {"node-a", "node-b", "node-c"}) {
      snapshot_.add(test::info(name), test::sgx_row(128));
    }
  }
  std::string run_for(std::string_view uid) {
    std::string body = R"({"Pod":{"metadata":{"uid":")";
    body += uid;
    body += R"("},"spec":{"containers":[{"name":"app","resources":{"requests":{)"
            R"("sgx.intel.com/epc":"16Mi","sgx.intel.com/enclave":"1"}}}]}},)"
            R"("NodeNames":["node-a","node-b","node-c"]})";
    return run(body, snapshot_);
  }
  static int tens(const std::string& reply) {
    int count = 0;
    for (std::size_t at = reply.find("\"Score\":10"); at != std::string::npos;
         at = reply.find("\"Score\":10", at + 1)) {
      ++count;
    }
    return count;
  }
  state::ClusterSnapshot snapshot_;
};

TEST_F(PrioritizeTieTest, one_tied_node_keeps_ten) {
  const std::string reply = run_for("6f1c2d3e-0000-4000-8000-000000000001");
  EXPECT_EQ(tens(reply), 1) << reply;
  EXPECT_EQ(std::count(reply.begin(), reply.end(), '9'), 2) << reply;
  EXPECT_EQ(run_for("6f1c2d3e-0000-4000-8000-000000000001"), reply);
}

TEST_F(PrioritizeTieTest, different_pods_spread_over_the_tied_nodes) {
  std::set<std::size_t> winners;
  for (int i = 0; i < 60; ++i) {
    const std::string reply = run_for("pod-uid-" + std::to_string(i));
    winners.insert(reply.find("\"Score\":10"));
  }
  EXPECT_EQ(winners.size(), 3U);
}

TEST_F(PrioritizeTieTest, switched_off_all_tied_nodes_keep_ten) {
  settings_.single_out_top_node = false;
  EXPECT_EQ(tens(run_for("6f1c2d3e-0000-4000-8000-000000000001")), 3);
}

TEST_F(PrioritizeTest, pod_without_sgx_gets_zero_everywhere) {
  EXPECT_EQ(
      run(R"({"Pod":{"spec":{"containers":[{"name":"web"}]}},"NodeNames":["node-a","node-b"]})",
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

// ---------------------------------------------------------------------------------------------
// FragmentationAware and the recent pod mix (formula in extender/core/score/fragmentation_aware.h:
// Δ = F(f − s, q − k) − F(f, q), F(f, q) = f · (share of the mix's EPC demand in shapes > f),
// smallest Δ scores 10).
// Two nodes with 5 GiB and 12 GiB free EPC and 20 free slots (slots never block a shape here);
// the pod to place asks for 4 GiB and one slot.

constexpr std::int64_t kGi = 1024 * kMi;

std::string sgx_pod_body(std::string_view epc) {
  std::string body = R"({"Pod":{"spec":{"containers":[{"name":"app","resources":{"requests":{)";
  body += R"("sgx.intel.com/epc":")";
  body += epc;
  body += R"(","sgx.intel.com/enclave":"1"}}}]}},"NodeNames":["node-5g","node-12g"]})";
  return body;
}

// Two nodes, and the recent pod mix the state writer published with them: `pods` pods of `epc`
// each (half-life 500, the default).
state::ClusterSnapshot five_and_twelve_gib(std::int64_t epc = 0, int pods = 0) {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-5g"), test::sgx_row(5 * kGi / kMi));
  snapshot.add(test::info("node-12g"), test::sgx_row(12 * kGi / kMi));
  core::PodMix mix(500.0);
  for (int i = 0; i < pods; ++i) {
    mix.observe(core::PodRequest{epc, 1, 0});
  }
  snapshot.set_pod_mix(mix, static_cast<std::uint64_t>(pods));
  return snapshot;
}

class PrioritizeFragmentationAwareTest : public PrioritizeTest {
 protected:
  PrioritizeFragmentationAwareTest() { settings_.policy = PolicyKind::kFragmentationAware; }
};

// The snapshot's mix holds 199 pods of 4 GiB; the handler adds the pod being placed to its own
// copy, so it scores against {4 GiB: 1} (one shape, probability 1):
//   node-5g:  F(5 GiB) = 0 (4 GiB fits), after placement F(1 GiB) = 1 GiB · 1 → Δ = +1 GiB
//   node-12g: F(12 GiB) = 0, F(8 GiB) = 0                                   → Δ = 0
// raw differs by 2^20 KiB · 2^20 ≈ 1.1·10^12 (BestFit tie-break ≤ 10^6 cannot outvote it); after
// the shift node-5g's raw is 1 → 1·10/1.1·10^12 = 0, node-12g 10: keep room for two more 4 GiB pods
// rather than leave a 1 GiB hole no pod of the mix can use.
TEST_F(PrioritizeFragmentationAwareTest, mix_of_4gib_pods_prefers_the_roomy_node) {
  EXPECT_EQ(run(sgx_pod_body("4Gi"), five_and_twelve_gib(4 * kGi, 199)),
            R"([{"Host":"node-5g","Score":0},{"Host":"node-12g","Score":10}])");
}

// After 200 pods of 8 GiB (half-life 500: their weight is Σ_{i=1..200} 2^(−i/500) = 174.55) the
// 4 GiB pod joins the handler's copy with weight 1; by EPC, 8 GiB pods are 174.55·8 / (174.55·8 +
// 4) = 0.9971 of it.
//   node-5g:  F(5 GiB) = 0.9971 · 5 GiB = 4.99 GiB (no 8 GiB pod fits), F(1 GiB) = 1 GiB
//             → Δ = 1 − 4.99 = −3.99 GiB: the pod fills a hole the mix could not use
//   node-12g: F(12 GiB) = 0, F(8 GiB) = 0 (an 8 GiB pod still fits)  → Δ = 0
// node-5g has the smallest Δ → 10; node-12g's shifted raw is 1 → 0. The same pod on the same nodes
// as in mix_of_4gib_pods_prefers_the_roomy_node, the opposite answer: only the mix differs.
TEST_F(PrioritizeFragmentationAwareTest, mix_of_8gib_pods_prefers_the_tight_node) {
  EXPECT_EQ(run(sgx_pod_body("4Gi"), five_and_twelve_gib(8 * kGi, 200)),
            R"([{"Host":"node-5g","Score":10},{"Host":"node-12g","Score":0}])");
}

// The pod being placed is always part of the mix it is scored against, even before the writer has
// seen it: with an empty published mix the pod alone is the mix, {4 GiB: 1}, the arithmetic of
// mix_of_4gib_pods_prefers_the_roomy_node.
TEST_F(PrioritizeFragmentationAwareTest, with_an_empty_mix_the_pod_alone_is_the_mix) {
  EXPECT_EQ(run(sgx_pod_body("4Gi"), five_and_twelve_gib()),
            R"([{"Host":"node-5g","Score":0},{"Host":"node-12g","Score":10}])");
}

// Other policies do not read the mix: BestFit answers the same over an 8 GiB mix as over none.
TEST_F(PrioritizeFragmentationAwareTest, other_policies_ignore_the_mix) {
  settings_.policy = PolicyKind::kBestFit;
  EXPECT_EQ(run(sgx_pod_body("4Gi"), five_and_twelve_gib(8 * kGi, 200)),
            run(sgx_pod_body("4Gi"), five_and_twelve_gib()));
}

TEST(PrioritizeError, is_an_empty_list) {
  std::string reply = "old";
  write_prioritize_error(reply);
  EXPECT_EQ(reply, "[]");
}

}  // namespace
}  // namespace epc::http::handlers
