#include "extender/http/handlers/preempt.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/http/codec/preempt_args.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

namespace json = boost::json;
using test::kMi;
using test::kNowNs;

constexpr std::int64_t kStaleAfterNs = 30'000'000'000;  // 30 s

state::PodRecord pod_record(std::string uid, std::string node, std::int32_t priority,
                            std::int64_t epc_mi, bool bound = true) {
  state::PodRecord record;
  record.namespace_name = "prod/" + uid;
  record.uid = std::move(uid);
  record.node = std::move(node);
  record.request = core::PodRequest{epc_mi * kMi, 1, 0};
  record.priority = priority;
  record.bound = bound;
  return record;
}

// A 256Mi (or `epc_mi`) node with `requested_mi` counted and `used_slots` of 20 enclave slots.
core::NodeRow row(std::int64_t epc_mi, std::int64_t requested_mi, std::int64_t used_slots) {
  core::NodeRow node = test::sgx_row(epc_mi);
  node.epc_requested_bytes = requested_mi * kMi;
  node.enclave_slots_used = used_slots;
  return node;
}

// The cluster of these tests; each row counts exactly the table's pods on it.
//   node-a 256Mi: a-low (prio 10, 64Mi), a-mid (prio 100, 96Mi), a-hi (prio 2000, 64Mi): 224Mi
//          requested, free 32Mi.
//   node-b 256Mi: b-1 (prio 5, 64Mi): free 192Mi.
//   node-c 256Mi: c-1 (prio 1, 224Mi), last report 60 s ago (stale after 30 s).
//   node-d 128Mi: d-low (prio 1, 64Mi) and d-res (prio 0, 64Mi, our unconfirmed reservation):
//          full.
state::ClusterSnapshot cluster() {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), row(256, 224, 3));
  snapshot.add(test::info("node-b"), row(256, 64, 1));
  core::NodeRow stale = row(256, 224, 1);
  stale.report_time_ns = kNowNs - 60'000'000'000;
  snapshot.add(test::info("node-c"), stale);
  snapshot.add(test::info("node-d"), row(128, 128, 2));
  auto pods = std::make_shared<state::PodTable>();
  pods->add(pod_record("a-mid", "node-a", 100, 96));
  pods->add(pod_record("a-low", "node-a", 10, 64));
  pods->add(pod_record("a-hi", "node-a", 2000, 64));
  pods->add(pod_record("b-1", "node-b", 5, 64));
  pods->add(pod_record("c-1", "node-c", 1, 224));
  pods->add(pod_record("d-res", "node-d", 0, 64, /*bound=*/false));
  pods->add(pod_record("d-low", "node-d", 1, 64));
  pods->seal();
  snapshot.set_pods(std::move(pods));
  return snapshot;
}

// The preemptor: `epc_mi` EPC (and so one enclave slot), priority 1000.
std::string preemptor(std::int64_t epc_mi = 64) {
  if (epc_mi == 0) {
    return R"({"metadata":{"name":"hi","namespace":"prod","uid":"p-1"},"spec":{"priority":1000,)"
           R"("containers":[{"name":"app"}]}})";
  }
  return R"({"metadata":{"name":"hi","namespace":"prod","uid":"p-1"},"spec":{"priority":1000,)"
         R"("containers":[{"name":"app","resources":{"requests":{"sgx.intel.com/epc":")" +
         std::to_string(epc_mi) + R"(Mi"}}}]}})";
}

std::string meta_body(std::string_view meta_victims, std::int64_t epc_mi = 64) {
  return R"({"Pod":)" + preemptor(epc_mi) +
         R"(,"NodeNameToVictims":null,"NodeNameToMetaVictims":)" + std::string(meta_victims) + "}";
}

std::string full_body(std::string_view victims, std::int64_t epc_mi = 64) {
  return R"({"Pod":)" + preemptor(epc_mi) + R"(,"NodeNameToVictims":)" + std::string(victims) +
         R"(,"NodeNameToMetaVictims":null})";
}

// A full v1.Pod victim; `epc_mi` 0 lists no SGX resource.
std::string victim_pod(std::string_view uid, std::int32_t priority, std::int64_t epc_mi) {
  std::string resources = "{}";
  if (epc_mi > 0) {
    resources = R"({"requests":{"sgx.intel.com/epc":")" + std::to_string(epc_mi) + R"(Mi"}})";
  }
  return R"({"metadata":{"name":"v","namespace":"prod","uid":")" + std::string(uid) +
         R"("},"spec":{"priority":)" + std::to_string(priority) +
         R"(,"containers":[{"name":"app","resources":)" + resources + "}]}}";
}

class PreemptTest : public ::testing::Test {
 protected:
  // Decodes `body`, runs preempt against `snapshot_`, checks the reply's invariants, returns it.
  std::string run(std::string_view body) {
    body_.assign(body);
    auto args = decoder_.decode(body_, settings_.pod_request);
    EXPECT_TRUE(args.ok()) << args.error().message;
    if (!args.ok()) {
      return {};
    }
    preempt(*args, snapshot_, settings_, kNowNs, reply_);
    check_invariants(*args);
    return reply_;
  }

  // kube-scheduler's checks of a preempt answer (spec §4.4): every returned node was a candidate
  // and has at least one victim; every UID was proposed for that node or, for a node sent without
  // victims, is a pod the table has on that node.
  void check_invariants(const codec::PreemptArgsView& args) {
    std::map<std::string, std::set<std::string>, std::less<>> allowed;
    for (const codec::PreemptNode& node : args.nodes) {
      std::set<std::string>& uids = allowed[std::string(node.name)];
      for (const codec::PreemptVictim& victim : node.victims) {
        uids.emplace(victim.uid);
      }
      if (node.victims.empty()) {
        for (const std::uint32_t index : snapshot_.pods().on_node(node.name)) {
          uids.insert(snapshot_.pods().all()[index].uid);
        }
      }
    }
    const json::value parsed = json::parse(reply_);
    for (const json::key_value_pair& entry :
         parsed.as_object().at("NodeNameToMetaVictims").as_object()) {
      const std::string name(entry.key());
      const auto node = allowed.find(name);
      ASSERT_NE(node, allowed.end()) << "not a candidate: " << name;
      const json::array& pods = entry.value().as_object().at("Pods").as_array();
      EXPECT_FALSE(pods.empty()) << name;
      for (const json::value& pod : pods) {
        const std::string uid(pod.as_object().at("UID").as_string());
        EXPECT_TRUE(node->second.contains(uid)) << uid << " on " << name;
      }
    }
  }

  static HandlerSettings make_settings() {
    HandlerSettings settings;
    settings.stale_after_ns = kStaleAfterNs;
    return settings;
  }

  state::ClusterSnapshot snapshot_ = cluster();
  HandlerSettings settings_ = make_settings();
  codec::PaddedBuffer body_;
  codec::PreemptArgsDecoder decoder_{1 << 20};
  std::string reply_;
};

// ------------------------------------------------------------------------------------------------
// Cache mode (NodeNameToMetaVictims)

TEST_F(PreemptTest, keeps_the_fewest_lowest_priority_victims_and_drops_untrusted_nodes) {
  // node-a: free 32 < 64. Both evicted: 32 + 96 + 64 = 192. Reprieve: a-mid (prio 100) back
  //   (32 + 64 = 96 ≥ 64); a-low stays (32 < 64).
  // node-b: free 192 ≥ 64, EPC is not the blocker: b-1 stays as proposed (NumPDBViolations 1).
  // node-c: stale. node-x: never reported.
  EXPECT_EQ(run(meta_body(R"({"node-a":{"Pods":[{"UID":"a-mid"},{"UID":"a-low"}],)"
                          R"("NumPDBViolations":0},"node-b":{"Pods":[{"UID":"b-1"}],)"
                          R"("NumPDBViolations":1},"node-c":{"Pods":[{"UID":"c-1"}],)"
                          R"("NumPDBViolations":0},"node-x":{"Pods":[{"UID":"x-1"}],)"
                          R"("NumPDBViolations":0}})")),
            R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"a-low"}],"NumPDBViolations":0},)"
            R"("node-b":{"Pods":[{"UID":"b-1"}],"NumPDBViolations":1}}})");
}

TEST_F(PreemptTest, two_victims_when_one_is_not_enough) {
  // Wants 160Mi, free 32. Reprieve: a-mid (prio 100, 96Mi): without it 32 + 64 = 96 < 160, stays;
  // a-low (prio 10, 64Mi): without it 32 + 96 = 128 < 160, stays.
  EXPECT_EQ(run(meta_body(R"({"node-a":{"Pods":[{"UID":"a-mid"},{"UID":"a-low"}],)"
                          R"("NumPDBViolations":0}})",
                          160)),
            R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"a-mid"},{"UID":"a-low"}],)"
            R"("NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, victims_that_cannot_make_room_drop_the_node) {
  // Wants 200Mi, free 32: a-low's 64Mi gives 96 < 200.
  EXPECT_EQ(run(meta_body(R"({"node-a":{"Pods":[{"UID":"a-low"}],"NumPDBViolations":0}})", 200)),
            R"({"NodeNameToMetaVictims":{}})");
}

TEST_F(PreemptTest, a_pod_the_table_has_on_another_node_frees_nothing_here) {
  // b-1 is on node-b: on node-a it is a non-SGX victim and EPC (free 32 < 64) is the blocker.
  EXPECT_EQ(run(meta_body(R"({"node-a":{"Pods":[{"UID":"b-1"}],"NumPDBViolations":0}})")),
            R"({"NodeNameToMetaVictims":{}})");
}

TEST_F(PreemptTest, unknown_victims_are_kept_beside_the_sgx_ones) {
  // "ghost" is not in the table: kept as proposed; a-low is needed for the EPC (32 + 64 ≥ 64).
  EXPECT_EQ(run(meta_body(
                R"({"node-a":{"Pods":[{"UID":"ghost"},{"UID":"a-low"}],"NumPDBViolations":0}})")),
            R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"ghost"},{"UID":"a-low"}],)"
            R"("NumPDBViolations":0}}})");
}

// ------------------------------------------------------------------------------------------------
// Entries without victims (newer schedulers, spec §4.4)

TEST_F(PreemptTest, empty_entries_take_candidates_from_the_table) {
  // node-a: candidates a-low (10), a-mid (100); a-hi (2000 ≥ 1000) is never a candidate. Wants
  //   128Mi, free 32; both: 192. Reprieve: a-mid back? 32 + 64 = 96 < 128: stays. a-low back?
  //   32 + 96 = 128 ≥ 128: back. One victim, a-mid.
  // node-b: free 192 ≥ 128, nothing of ours blocks the pod: left out.
  // node-d: full; d-res is our unconfirmed reservation, never a candidate; d-low frees 64 < 128:
  //   left out.
  EXPECT_EQ(
      run(meta_body(R"({"node-a":{"Pods":[],"NumPDBViolations":0},)"
                    R"("node-b":{"Pods":null,"NumPDBViolations":0},)"
                    R"("node-d":{"Pods":[],"NumPDBViolations":0}})",
                    128)),
      R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"a-mid"}],"NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, empty_entry_candidates_are_least_important_first) {
  // The table lists a-mid before a-low; the candidates are a-low (10), a-mid (100). Wants 160Mi,
  // free 32: without a-mid 96 < 160, without a-low 128 < 160: both stay, in candidate order.
  EXPECT_EQ(run(meta_body(R"({"node-a":{"Pods":[],"NumPDBViolations":0}})", 160)),
            R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"a-low"},{"UID":"a-mid"}],)"
            R"("NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, empty_entry_never_offers_our_unconfirmed_reservations) {
  // node-d is full. Offered, d-res (prio 0) would be the one kept (d-low, prio 1, reprieved
  // first); only d-low is a candidate, and its 64Mi make room for the 64Mi preemptor.
  EXPECT_EQ(
      run(meta_body(R"({"node-d":{"Pods":[],"NumPDBViolations":0}})")),
      R"({"NodeNameToMetaVictims":{"node-d":{"Pods":[{"UID":"d-low"}],"NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, empty_entry_on_an_untrusted_or_unknown_node_is_left_out) {
  EXPECT_EQ(run(meta_body(R"({"node-c":{"Pods":[],"NumPDBViolations":0},)"
                          R"("node-x":{"Pods":[],"NumPDBViolations":0}})")),
            R"({"NodeNameToMetaVictims":{}})");
}

// ------------------------------------------------------------------------------------------------
// Non-cache mode (NodeNameToVictims with full pods)

TEST_F(PreemptTest, full_pods_unknown_to_the_table_count_by_their_own_request) {
  // a-mid: the table's 96Mi (prio 100). plain: no SGX resource, kept as proposed. new-1: not in
  // the table, 64Mi from its own pod (prio 1). Reprieve: a-mid back (32 + 64 ≥ 64); new-1 stays.
  EXPECT_EQ(run(full_body(R"({"node-a":{"Pods":[)" + victim_pod("a-mid", 100, 96) + "," +
                          victim_pod("plain", 50, 0) + "," + victim_pod("new-1", 1, 64) +
                          R"(],"NumPDBViolations":2}})")),
            R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"plain"},{"UID":"new-1"}],)"
            R"("NumPDBViolations":2}}})");
}

TEST_F(PreemptTest, the_table_wins_over_the_full_pod) {
  // The pod sent for a-low lists no SGX resource, but the table counts 64Mi for it on node-a:
  // evicting it makes room (32 + 64 ≥ 64). Read as non-SGX, the node would be left out.
  EXPECT_EQ(
      run(full_body(R"({"node-a":{"Pods":[)" + victim_pod("a-low", 10, 0) +
                    R"(],"NumPDBViolations":0}})")),
      R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"a-low"}],"NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, only_non_sgx_full_pods_when_epc_is_the_blocker_drop_the_node) {
  EXPECT_EQ(run(full_body(R"({"node-a":{"Pods":[)" + victim_pod("plain", 1, 0) +
                          R"(],"NumPDBViolations":0}})")),
            R"({"NodeNameToMetaVictims":{}})");
}

// ------------------------------------------------------------------------------------------------
// Edges

TEST_F(PreemptTest, preemptor_without_sgx_demand_keeps_every_proposal) {
  // Not our business, as in filter: even the stale and the unknown node keep their victims; an
  // entry without victims stays out (nothing to evict for us).
  EXPECT_EQ(run(meta_body(R"({"node-c":{"Pods":[{"UID":"c-1"}],"NumPDBViolations":0},)"
                          R"("node-x":{"Pods":[{"UID":"x-1"}],"NumPDBViolations":0},)"
                          R"("node-a":{"Pods":[],"NumPDBViolations":0}})",
                          0)),
            R"({"NodeNameToMetaVictims":{"node-c":{"Pods":[{"UID":"c-1"}],"NumPDBViolations":0},)"
            R"("node-x":{"Pods":[{"UID":"x-1"}],"NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, no_candidates_is_an_empty_map) {
  EXPECT_EQ(run(R"({"Pod":{"spec":{"priority":5}},"NodeNameToVictims":null,)"
                R"("NodeNameToMetaVictims":null})"),
            R"({"NodeNameToMetaVictims":{}})");
  EXPECT_EQ(run(meta_body("{}")), R"({"NodeNameToMetaVictims":{}})");
}

TEST_F(PreemptTest, names_and_uids_are_escaped_in_the_reply) {
  auto pods = std::make_shared<state::PodTable>();
  pods->add(pod_record("u\"1", "n\\1", 1, 64));
  pods->seal();
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("n\\1"), row(256, 224, 1));
  snapshot.set_pods(std::move(pods));
  snapshot_ = std::move(snapshot);
  EXPECT_EQ(run(meta_body(R"({"n\\1":{"Pods":[{"UID":"u\"1"}],"NumPDBViolations":0}})")),
            R"({"NodeNameToMetaVictims":{"n\\1":{"Pods":[{"UID":"u\"1"}],"NumPDBViolations":0}}})");
}

TEST_F(PreemptTest, reply_is_replaced_not_appended) {
  reply_ = "left over";
  EXPECT_EQ(run(meta_body("{}")), R"({"NodeNameToMetaVictims":{}})");
}

TEST(PreemptErrorReplyTest, error_reply_is_an_empty_map_with_the_message) {
  std::string reply;
  write_preempt_error("NodeNameToMetaVictims[\"n\"]: UID is missing or empty", reply);
  EXPECT_EQ(
      reply,
      R"({"NodeNameToMetaVictims":{},"Error":"NodeNameToMetaVictims[\"n\"]: UID is missing or empty"})");
  EXPECT_TRUE(json::parse(reply).as_object().at("NodeNameToMetaVictims").as_object().empty());
}

}  // namespace
}  // namespace epc::http::handlers
