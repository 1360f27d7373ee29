#include "extender/http/handlers/state_dump.h"

#include <memory>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "extender/http/handlers/fit_reason_text.h"
#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

namespace json = boost::json;
using test::kMi;
using test::kNowNs;

state::PodRecord pod(std::string uid, std::string node, std::int64_t epc_mi,
                     bool epc_known = true) {
  return state::PodRecord{.uid = std::move(uid),
                          .namespace_name = "apps/p",
                          .node = std::move(node),
                          .request = core::PodRequest{epc_mi * kMi, 1, 0},
                          .priority = 0,
                          .bound = true,
                          .source = core::LedgerSource::kApiWatch,
                          .epc_known = epc_known};
}

TEST(StateDump, NodesWithTheirAccountingAndPodsGroupedByShape) {
  state::ClusterSnapshot snapshot;
  core::NodeRow a = test::sgx_row(512);
  a.epc_requested_bytes = 192 * kMi;
  a.enclave_slots_used = 3;
  a.report_time_ns = kNowNs - 1'500'000'000;  // 1.5 s ago
  snapshot.add(test::info("node-a"), a);
  core::NodeRow b = test::sgx_row(256);
  b.live_used_known = true;
  b.epc_live_used_bytes = 200 * kMi;  // more than requested: free counts the live use
  b.epc_requested_bytes = 64 * kMi;
  b.report_time_ns = kNowNs - 120'000'000'000;  // stale
  snapshot.add(test::info("node-b"), b);
  auto pods = std::make_shared<state::PodTable>();
  pods->add(pod("u1", "node-a", 64));
  pods->add(pod("u2", "node-a", 64));
  pods->add(pod("u3", "node-a", 64));
  pods->add(pod("u4", "node-b", 64));
  pods->add(pod("u5", "node-b", 0, /*epc_known=*/false));
  pods->seal();
  snapshot.set_pods(pods);

  HandlerSettings settings;
  settings.stale_after_ns = 30'000'000'000;
  settings.accounting.epc_headroom_bytes = 32 * kMi;
  std::string out;
  state_dump(snapshot, settings, kNowNs, out);
  const json::object dump = json::parse(out).as_object();
  EXPECT_EQ(dump.at("epcHeadroomBytes").as_int64(), 32 * kMi);
  const json::array& nodes = dump.at("nodes").as_array();
  ASSERT_EQ(nodes.size(), 2U);
  const json::object& na = nodes[0].as_object();
  EXPECT_EQ(na.at("node").as_string(), "node-a");
  EXPECT_TRUE(na.at("trusted").as_bool());
  EXPECT_FALSE(na.contains("why"));
  EXPECT_EQ(na.at("reportAgeMs").as_int64(), 1500);
  EXPECT_EQ(na.at("epcCapacityBytes").as_int64(), 512 * kMi);
  EXPECT_EQ(na.at("epcRequestedBytes").as_int64(), 192 * kMi);
  EXPECT_TRUE(na.at("epcLiveUsedBytes").is_null());
  EXPECT_EQ(na.at("epcFreeBytes").as_int64(), (512 - 192 - 32) * kMi);
  EXPECT_EQ(na.at("enclaveSlots").at("total").as_int64(), 20);
  EXPECT_EQ(na.at("enclaveSlots").at("used").as_int64(), 3);
  EXPECT_EQ(na.at("pods").as_int64(), 3);
  const json::object& nb = nodes[1].as_object();
  EXPECT_FALSE(nb.at("trusted").as_bool());
  EXPECT_EQ(nb.at("why").as_string(), fit_reason_text(core::FitReason::kStaleReport));
  EXPECT_EQ(nb.at("epcLiveUsedBytes").as_int64(), 200 * kMi);
  EXPECT_EQ(nb.at("epcFreeBytes").as_int64(), (256 - 200 - 32) * kMi);
  EXPECT_EQ(nb.at("pods").as_int64(), 2);

  const json::array& shapes = dump.at("podShapes").as_array();
  ASSERT_EQ(shapes.size(), 1U);  // four 64Mi pods; the one of unknown EPC is counted apart
  EXPECT_EQ(shapes[0].at("epcBytes").as_int64(), 64 * kMi);
  EXPECT_EQ(shapes[0].at("enclaveSlots").as_int64(), 1);
  EXPECT_EQ(shapes[0].at("pods").as_int64(), 4);
  EXPECT_EQ(dump.at("podsWithUnknownEpc").as_int64(), 1);
}

TEST(StateDump, ShapesAreOrderedByHowManyPodsHaveThem) {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-\"q\""), test::sgx_row(4096));  // a name that needs escaping
  auto pods = std::make_shared<state::PodTable>();
  pods->add(pod("u1", "node-\"q\"", 1024));
  for (int i = 0; i < 3; ++i) {
    pods->add(pod("v" + std::to_string(i), "node-\"q\"", 256));
  }
  pods->seal();
  snapshot.set_pods(pods);
  std::string out;
  state_dump(snapshot, HandlerSettings{}, kNowNs, out);
  const json::object dump = json::parse(out).as_object();
  EXPECT_EQ(dump.at("nodes").at(0).at("node").as_string(), "node-\"q\"");
  const json::array& shapes = dump.at("podShapes").as_array();
  ASSERT_EQ(shapes.size(), 2U);
  EXPECT_EQ(shapes[0].at("epcBytes").as_int64(), 256 * kMi);
  EXPECT_EQ(shapes[0].at("pods").as_int64(), 3);
  EXPECT_EQ(shapes[1].at("epcBytes").as_int64(), 1024 * kMi);
}

TEST(StateDump, AnEmptyClusterIsWellFormed) {
  std::string out;
  state_dump(state::ClusterSnapshot{}, HandlerSettings{}, kNowNs, out);
  const json::object dump = json::parse(out).as_object();
  EXPECT_TRUE(dump.at("nodes").as_array().empty());
  EXPECT_TRUE(dump.at("podShapes").as_array().empty());
}

TEST(StateDump, CpuAndMemoryOnlyWhereKnown) {
  state::ClusterSnapshot snapshot;
  core::NodeRow known = test::sgx_row(512);
  known.cpu_memory_known = true;
  known.cpu_allocatable_milli = 15890;
  known.cpu_requested_milli = 2100;
  known.memory_allocatable_bytes = 64 * 1024 * kMi;
  known.memory_requested_bytes = 4096 * kMi;
  snapshot.add(test::info("known"), known);
  core::NodeRow unknown = test::sgx_row(512);  // a node known only from its plugin's reports
  snapshot.add(test::info("unknown"), unknown);
  std::string out;
  state_dump(snapshot, HandlerSettings{}, kNowNs, out);
  const json::value dump = json::parse(out);
  const json::array& nodes = dump.at("nodes").as_array();
  ASSERT_EQ(nodes.size(), 2U);
  const json::object& k = nodes[0].as_object();
  EXPECT_EQ(k.at("cpuMilli").at("allocatable").as_int64(), 15890);
  EXPECT_EQ(k.at("cpuMilli").at("requested").as_int64(), 2100);
  EXPECT_EQ(k.at("memoryBytes").at("allocatable").as_int64(), 64 * 1024 * kMi);
  EXPECT_EQ(k.at("memoryBytes").at("requested").as_int64(), 4096 * kMi);
  EXPECT_FALSE(nodes[1].as_object().contains("cpuMilli"));
  EXPECT_FALSE(nodes[1].as_object().contains("memoryBytes"));
}

}  // namespace
}  // namespace epc::http::handlers
