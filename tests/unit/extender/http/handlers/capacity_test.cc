#include "extender/http/handlers/capacity.h"

#include <string>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

namespace json = boost::json;
using test::kMi;
using test::kNowNs;
using ::testing::HasSubstr;

TEST(CapacityQuery, ReadsTheShapeAndDefaultsOneEnclaveForEpc) {
  auto shape = parse_capacity_query("epc=512Mi");
  ASSERT_TRUE(shape.ok()) << shape.error().message;
  EXPECT_EQ(shape->epc_bytes, 512 * kMi);
  EXPECT_EQ(shape->enclave_slots, 1);
  EXPECT_EQ(shape->provision_slots, 0);
  shape = parse_capacity_query("epc=1Gi&enclaves=2&provision=1");
  ASSERT_TRUE(shape.ok()) << shape.error().message;
  EXPECT_EQ(shape->epc_bytes, 1024 * kMi);
  EXPECT_EQ(shape->enclave_slots, 2);
  EXPECT_EQ(shape->provision_slots, 1);
  shape = parse_capacity_query("enclaves=1");  // slots only
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->epc_bytes, 0);
  shape = parse_capacity_query("epc=64Mi&enclaves=0");  // said so: no slot
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->enclave_slots, 0);
}

TEST(CapacityQuery, ErrorsNameTheParameter) {
  EXPECT_THAT(parse_capacity_query("epc=lots").error().message, HasSubstr("epc"));
  EXPECT_THAT(parse_capacity_query("epc=-1Mi").error().message, HasSubstr("epc"));
  EXPECT_THAT(parse_capacity_query("epc=99Ei").error().message, HasSubstr("epc"));
  EXPECT_THAT(parse_capacity_query("epc=64Mi&enclaves=x").error().message, HasSubstr("enclaves"));
  EXPECT_THAT(parse_capacity_query("cpu=1").error().message, HasSubstr("cpu"));
  EXPECT_FALSE(parse_capacity_query("").ok());
  EXPECT_FALSE(parse_capacity_query("epc=0").ok());  // a shape that asks for nothing
}

TEST(CapacityHandler, CountsPerNodeMostFirstWithStrandedEpc) {
  state::ClusterSnapshot snapshot;
  snapshot.add(test::info("node-a"), test::sgx_row(128));  // 128 / 64 = 2
  core::NodeRow b = test::sgx_row(512);                    // 8 by EPC, but 3 slots left
  b.enclave_slots_used = 17;
  snapshot.add(test::info("node-b"), b);
  core::NodeRow c = test::sgx_row(256);  // no slot left: its 256Mi is stranded
  c.enclave_slots_used = 20;
  snapshot.add(test::info("node-c"), c);
  core::NodeRow d = test::sgx_row(1024);  // stale: not counted, strands nothing
  d.report_time_ns = kNowNs - 120'000'000'000;
  snapshot.add(test::info("node-d"), d);

  HandlerSettings settings;
  settings.stale_after_ns = 30'000'000'000;
  std::string out;
  capacity(core::PodRequest{64 * kMi, 1, 0}, snapshot, settings, kNowNs, out);
  const json::object reply = json::parse(out).as_object();
  EXPECT_EQ(reply.at("pods").as_int64(), 5);
  EXPECT_EQ(reply.at("nodesWithRoom").as_int64(), 2);
  EXPECT_EQ(reply.at("strandedEpcBytes").as_int64(), 256 * kMi);
  EXPECT_EQ(reply.at("shape").at("epcBytes").as_int64(), 64 * kMi);
  const json::array& nodes = reply.at("nodes").as_array();
  ASSERT_EQ(nodes.size(), 2U);
  EXPECT_EQ(nodes[0].at("node").as_string(), "node-b");
  EXPECT_EQ(nodes[0].at("pods").as_int64(), 3);
  EXPECT_EQ(nodes[0].at("freeEpcBytes").as_int64(), 512 * kMi);
  EXPECT_EQ(nodes[1].at("node").as_string(), "node-a");
  EXPECT_EQ(nodes[1].at("pods").as_int64(), 2);

  // Headroom comes off every node's free EPC.
  settings.accounting.epc_headroom_bytes = 64 * kMi;
  capacity(core::PodRequest{64 * kMi, 1, 0}, snapshot, settings, kNowNs, out);
  EXPECT_EQ(json::parse(out).at("pods").as_int64(), 1 + 3);
}

TEST(CapacityHandler, EmptyClusterAndErrorsAreWellFormedJson) {
  std::string out;
  capacity(core::PodRequest{64 * kMi, 1, 0}, state::ClusterSnapshot{}, HandlerSettings{}, kNowNs,
           out);
  EXPECT_EQ(json::parse(out).at("pods").as_int64(), 0);
  EXPECT_TRUE(json::parse(out).at("nodes").as_array().empty());
  write_capacity_error("parameter \"x\": bad", out);
  EXPECT_EQ(json::parse(out).at("error").as_string(), "parameter \"x\": bad");
}

}  // namespace
}  // namespace epc::http::handlers
