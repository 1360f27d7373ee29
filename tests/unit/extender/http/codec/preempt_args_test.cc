#include "extender/http/codec/preempt_args.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::codec {
namespace {

using test::kMi;
using ::testing::HasSubstr;

constexpr std::size_t kLimit = 1 << 20;

class PreemptArgsDecoderTest : public ::testing::Test {
 protected:
  // Decodes `text`; the views stay valid until the next call (body_ is kept).
  common::Result<PreemptArgsView> decode(std::string_view text,
                                         core::PodRequestOptions options = {}) {
    body_.assign(text);
    return decoder_.decode(body_, options);
  }

  std::string error_of(std::string_view text) {
    auto result = decode(text);
    EXPECT_FALSE(result.ok()) << "decoded although invalid: " << text;
    return result.ok() ? std::string() : result.error().message;
  }

  static std::vector<std::string> uids(const PreemptNode& node) {
    std::vector<std::string> out;
    for (const PreemptVictim& victim : node.victims) {
      out.emplace_back(victim.uid);
    }
    return out;
  }

  PaddedBuffer body_;
  PreemptArgsDecoder decoder_{kLimit};
};

// The preemptor: 256Mi EPC and one enclave slot, priority 1000.
constexpr std::string_view kPreemptor =
    R"({"metadata":{"name":"hi","namespace":"prod","uid":"p-1"},"spec":{"priority":1000,)"
    R"("containers":[{"name":"app","resources":{"requests":{"sgx.intel.com/epc":"256Mi",)"
    R"("sgx.intel.com/enclave":"1"}}}]}})";

// A cache-mode body with the given NodeNameToMetaVictims value.
std::string meta_body(std::string_view meta_victims) {
  return R"({"Pod":)" + std::string(kPreemptor) + R"(,"NodeNameToVictims":null,)" +
         R"("NodeNameToMetaVictims":)" + std::string(meta_victims) + "}";
}

// A non-cache body with the given NodeNameToVictims value.
std::string full_body(std::string_view victims) {
  return R"({"Pod":)" + std::string(kPreemptor) + R"(,"NodeNameToVictims":)" +
         std::string(victims) + R"(,"NodeNameToMetaVictims":null})";
}

// A victim v1.Pod with `epc` (a JSON quantity, or empty for no SGX resource) and a priority.
std::string victim_pod(std::string_view uid, std::int32_t priority, std::string_view epc = "") {
  std::string resources = "{}";
  if (!epc.empty()) {
    resources = R"({"limits":{"sgx.intel.com/epc":)" + std::string(epc) + "}}";
  }
  return R"({"metadata":{"name":"v-)" + std::string(uid) + R"(","namespace":"prod","uid":")" +
         std::string(uid) + R"("},"spec":{"nodeName":"node-a","priority":)" +
         std::to_string(priority) + R"(,"containers":[{"name":"app","resources":)" + resources +
         "}]}}";
}

// ------------------------------------------------------------------------------------------------
// Recorded kube-scheduler body

TEST_F(PreemptArgsDecoderTest, recorded_meta_victims_body) {
  const std::string body = test::recorded("preempt-request-metavictims.json");
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->pod.name, "high-1");
  EXPECT_EQ(args->pod.namespace_name, "default");
  EXPECT_EQ(args->pod.uid, "593ac785-c254-49fd-9cce-ffa0747f8e5f");
  // 64Mi EPC; the EPC implies one enclave slot (PodRequestOptions default).
  EXPECT_EQ(args->request, (core::PodRequest{64 * kMi, 1, 0}));
  EXPECT_EQ(args->priority, 1000);
  EXPECT_EQ(args->source, VictimSource::kMetaVictims);
  ASSERT_EQ(args->nodes.size(), 2u);
  EXPECT_EQ(args->nodes[0].name, "node-a");
  EXPECT_EQ(args->nodes[0].num_pdb_violations, 0);
  EXPECT_EQ(uids(args->nodes[0]),
            (std::vector<std::string>{"d05bfe9d-71b5-451d-b552-6c93101335f9"}));
  EXPECT_FALSE(args->nodes[0].victims[0].pod_decoded);
  EXPECT_EQ(args->nodes[1].name, "node-b");
  EXPECT_EQ(uids(args->nodes[1]),
            (std::vector<std::string>{"506d8e5e-412c-4e91-ad5b-bf4b5aa7f21c"}));
}

// ------------------------------------------------------------------------------------------------
// Shapes

TEST_F(PreemptArgsDecoderTest, entries_without_victims_are_nodes_with_an_empty_list) {
  auto args = decode(meta_body(
      R"({"n-empty":{"Pods":[],"NumPDBViolations":0},"n-null":{"Pods":null,"NumPDBViolations":2},)"
      R"("n-entry-null":null,"n-no-keys":{},"n-one":{"Pods":[{"UID":"u-1"}],"NumPDBViolations":1}})"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  ASSERT_EQ(args->nodes.size(), 5u);
  const std::vector<std::string_view> names = {"n-empty", "n-null", "n-entry-null", "n-no-keys",
                                               "n-one"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(args->nodes[i].name, names[i]);
    EXPECT_EQ(args->nodes[i].victims.empty(), i != 4) << names[i];
  }
  EXPECT_EQ(args->nodes[1].num_pdb_violations, 2);
  EXPECT_EQ(args->nodes[4].num_pdb_violations, 1);
  EXPECT_EQ(uids(args->nodes[4]), (std::vector<std::string>{"u-1"}));
}

TEST_F(PreemptArgsDecoderTest, full_victims_carry_their_request_and_priority) {
  auto args =
      decode(full_body(R"({"node-a":{"Pods":[)" + victim_pod("v-1", 500, R"("128Mi")") + "," +
                       victim_pod("v-2", 10) + R"(],"NumPDBViolations":1},"node-b":{"Pods":[)" +
                       victim_pod("v-3", -5, "67108864") + R"(],"NumPDBViolations":0}})"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->source, VictimSource::kVictims);
  EXPECT_EQ(args->request, (core::PodRequest{256 * kMi, 1, 0}));
  ASSERT_EQ(args->nodes.size(), 2u);
  const PreemptNode& a = args->nodes[0];
  EXPECT_EQ(a.name, "node-a");
  EXPECT_EQ(a.num_pdb_violations, 1);
  ASSERT_EQ(a.victims.size(), 2u);
  EXPECT_EQ(a.victims[0].uid, "v-1");
  EXPECT_TRUE(a.victims[0].pod_decoded);
  EXPECT_EQ(a.victims[0].priority, 500);
  EXPECT_EQ(a.victims[0].request, (core::PodRequest{128 * kMi, 1, 0}));  // limits stand in
  EXPECT_EQ(a.victims[1].uid, "v-2");
  EXPECT_TRUE(a.victims[1].pod_decoded);
  EXPECT_EQ(a.victims[1].priority, 10);
  EXPECT_FALSE(a.victims[1].request.wants_sgx());
  const PreemptNode& b = args->nodes[1];
  ASSERT_EQ(b.victims.size(), 1u);
  EXPECT_EQ(b.victims[0].priority, -5);
  EXPECT_EQ(b.victims[0].request, (core::PodRequest{64 * kMi, 1, 0}));  // a bare number
}

TEST_F(PreemptArgsDecoderTest, preemptor_and_full_victims_carry_cpu_and_memory) {
  // Preemptor: 1500m / 2Gi with 64Mi EPC; victim: 250m / 512Mi, no SGX.
  const std::string body =
      R"({"Pod":{"metadata":{"uid":"p-1"},"spec":{"containers":[{"name":"app","resources":)"
      R"({"requests":{"cpu":"1500m","memory":"2Gi","sgx.intel.com/epc":"64Mi"}}}]}},)"
      R"("NodeNameToVictims":{"node-a":{"Pods":[{"metadata":{"uid":"v-1"},"spec":{"containers":)"
      R"([{"name":"c","resources":{"requests":{"cpu":"250m","memory":"512Mi"}}}]}}],)"
      R"("NumPDBViolations":0}},"NodeNameToMetaVictims":null})";
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request, (core::PodRequest{64 * kMi, 1, 0, 1500, 2048 * kMi}));
  ASSERT_EQ(args->nodes.size(), 1u);
  ASSERT_EQ(args->nodes[0].victims.size(), 1u);
  EXPECT_EQ(args->nodes[0].victims[0].request, (core::PodRequest{0, 0, 0, 250, 512 * kMi}));
}

TEST_F(PreemptArgsDecoderTest, keys_match_case_insensitively) {
  auto args =
      decode(R"({"pod":{"METADATA":{"uid":"p"},"spec":{"Priority":7}},"nodenametovictims":null,)"
             R"("NODENAMETOMETAVICTIMS":{"n":{"pods":[{"uid":"u"}],"numpdbviolations":3}}})");
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->pod.uid, "p");
  EXPECT_EQ(args->priority, 7);
  ASSERT_EQ(args->nodes.size(), 1u);
  EXPECT_EQ(args->nodes[0].num_pdb_violations, 3);
  EXPECT_EQ(uids(args->nodes[0]), (std::vector<std::string>{"u"}));
}

TEST_F(PreemptArgsDecoderTest, no_map_means_no_candidates) {
  for (const char* body :
       {R"({"Pod":{},"NodeNameToVictims":null,"NodeNameToMetaVictims":null})", R"({"Pod":{}})"}) {
    auto args = decode(body);
    ASSERT_TRUE(args.ok()) << args.error().message;
    EXPECT_EQ(args->source, VictimSource::kNone) << body;
    EXPECT_TRUE(args->nodes.empty()) << body;
  }
}

TEST_F(PreemptArgsDecoderTest, full_victims_win_over_meta_victims) {
  auto args = decode(R"({"Pod":{},"NodeNameToMetaVictims":{"meta":{"Pods":[{"UID":"m"}]}},)"
                     R"("NodeNameToVictims":{"full":{"Pods":[)" +
                     victim_pod("f", 1) + R"(]}}})");
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->source, VictimSource::kVictims);
  ASSERT_EQ(args->nodes.size(), 1u);
  EXPECT_EQ(args->nodes[0].name, "full");
  EXPECT_EQ(uids(args->nodes[0]), (std::vector<std::string>{"f"}));
}

TEST_F(PreemptArgsDecoderTest, repeated_keys_replace_earlier_values) {
  auto args = decode(
      R"({"Pod":{},"NodeNameToMetaVictims":{"old":{"Pods":[{"UID":"x"}]}},)"
      R"("NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"a"}],"Pods":[{"UID":"b"},{"UID":"c"}]}}})");
  ASSERT_TRUE(args.ok()) << args.error().message;
  ASSERT_EQ(args->nodes.size(), 1u);
  EXPECT_EQ(args->nodes[0].name, "n");
  EXPECT_EQ(uids(args->nodes[0]), (std::vector<std::string>{"b", "c"}));
  // A later null clears the map.
  auto cleared = decode(R"({"Pod":{},"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"a"}]}},)"
                        R"("NodeNameToMetaVictims":null})");
  ASSERT_TRUE(cleared.ok()) << cleared.error().message;
  EXPECT_EQ(cleared->source, VictimSource::kNone);
}

TEST_F(PreemptArgsDecoderTest, escaped_names_and_uids_are_unescaped) {
  auto args = decode(meta_body(R"({"n\u002d1":{"Pods":[{"UID":"u\"q"}]}})"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  ASSERT_EQ(args->nodes.size(), 1u);
  EXPECT_EQ(args->nodes[0].name, "n-1");
  EXPECT_EQ(uids(args->nodes[0]), (std::vector<std::string>{"u\"q"}));
}

TEST_F(PreemptArgsDecoderTest, decoder_is_reusable_and_forgets_the_previous_request) {
  auto first = decode(meta_body(R"({"a":{"Pods":[{"UID":"1"},{"UID":"2"}]},"b":{"Pods":[]}})"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->nodes.size(), 2u);
  ASSERT_FALSE(decode("{").ok());
  auto second = decode(R"({"Pod":{},"NodeNameToMetaVictims":{"c":{"Pods":[{"UID":"3"}]}}})");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->pod.name, "");
  EXPECT_EQ(second->priority, 0);
  EXPECT_FALSE(second->request.wants_sgx());
  ASSERT_EQ(second->nodes.size(), 1u);
  EXPECT_EQ(second->nodes[0].name, "c");
  EXPECT_EQ(uids(second->nodes[0]), (std::vector<std::string>{"3"}));
}

// ------------------------------------------------------------------------------------------------
// Errors

TEST_F(PreemptArgsDecoderTest, malformed_json_is_an_error) {
  for (const char* body : {"", "{", "not json", R"({"Pod":{}} trailing)",
                           R"({"Pod":{},"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"a"},]}}})",
                           R"({"Pod":{},"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"a})"}) {
    EXPECT_THAT(error_of(body), HasSubstr("malformed JSON")) << body;
  }
}

TEST_F(PreemptArgsDecoderTest, missing_preemptor_is_an_error) {
  EXPECT_EQ(error_of(R"({"NodeNameToMetaVictims":{}})"),
            "ExtenderPreemptionArgs.Pod is missing or null");
  EXPECT_EQ(error_of(R"({"Pod":null,"NodeNameToMetaVictims":{}})"),
            "ExtenderPreemptionArgs.Pod is missing or null");
}

TEST_F(PreemptArgsDecoderTest, wrong_types_are_errors_that_name_the_place) {
  EXPECT_THAT(error_of("[]"), HasSubstr("ExtenderPreemptionArgs must be a JSON object"));
  EXPECT_EQ(error_of(R"({"Pod":{},"NodeNameToMetaVictims":[]})"),
            "ExtenderPreemptionArgs.NodeNameToMetaVictims must be an object, got an array");
  EXPECT_EQ(error_of(R"({"Pod":{},"NodeNameToVictims":"x"})"),
            "ExtenderPreemptionArgs.NodeNameToVictims must be an object, got a string");
  EXPECT_EQ(error_of(meta_body(R"({"n":[]})")),
            R"(NodeNameToMetaVictims["n"]: MetaVictims must be an object, got an array)");
  EXPECT_EQ(error_of(meta_body(R"({"n":{"Pods":{}}})")),
            R"(NodeNameToMetaVictims["n"]: Pods must be an array, got an object)");
  EXPECT_EQ(error_of(meta_body(R"({"n":{"Pods":[{"UID":"a"},"b"]}})")),
            R"(NodeNameToMetaVictims["n"].Pods[1]: MetaPod must be an object, got a string)");
  EXPECT_EQ(error_of(meta_body(R"({"n":{"Pods":[{"UID":7}]}})")),
            R"(NodeNameToMetaVictims["n"].Pods[0]: UID must be a string, got a number)");
  EXPECT_EQ(error_of(full_body(R"({"n":{"Pods":[)" + victim_pod("a", 1) + R"(,[]]}})")),
            R"(NodeNameToVictims["n"].Pods[1]: v1.Pod must be an object, got an array)");
}

TEST_F(PreemptArgsDecoderTest, victims_without_uid_are_errors) {
  EXPECT_EQ(error_of(meta_body(R"({"n":{"Pods":[{}]}})")),
            R"(NodeNameToMetaVictims["n"].Pods[0]: UID is missing or empty)");
  EXPECT_EQ(error_of(meta_body(R"({"n":{"Pods":[{"UID":""}]}})")),
            R"(NodeNameToMetaVictims["n"].Pods[0]: UID is missing or empty)");
  EXPECT_EQ(error_of(meta_body(R"({"n":{"Pods":[null]}})")),
            R"(NodeNameToMetaVictims["n"].Pods[0]: UID is missing or empty)");
  EXPECT_EQ(error_of(full_body(R"({"n":{"Pods":[{"metadata":{"name":"x"}}]}})")),
            R"(NodeNameToVictims["n"].Pods[0]: metadata.uid is missing or empty)");
}

TEST_F(PreemptArgsDecoderTest, pdb_violations_must_be_an_integer) {
  EXPECT_EQ(error_of(meta_body(R"({"n":{"NumPDBViolations":"1"}})")),
            R"(NodeNameToMetaVictims["n"]: NumPDBViolations must be an integer, got a string)");
  // Go decodes it into an int: a fraction or an exponent fails there too.
  EXPECT_EQ(error_of(meta_body(R"({"n":{"NumPDBViolations":1.5}})")),
            R"(NodeNameToMetaVictims["n"]: NumPDBViolations must be a 64-bit integer, got 1.5)");
  EXPECT_EQ(error_of(meta_body(R"({"n":{"NumPDBViolations":1e1}})")),
            R"(NodeNameToMetaVictims["n"]: NumPDBViolations must be a 64-bit integer, got 1e1)");
  auto null_is_zero = decode(meta_body(R"({"n":{"NumPDBViolations":null}})"));
  ASSERT_TRUE(null_is_zero.ok()) << null_is_zero.error().message;
  EXPECT_EQ(null_is_zero->nodes[0].num_pdb_violations, 0);
}

TEST_F(PreemptArgsDecoderTest, bad_quantity_names_node_victim_and_container) {
  EXPECT_EQ(
      error_of(full_body(R"({"node-a":{"Pods":[)" + victim_pod("a", 1, R"("1Mi")") + "," +
                         victim_pod("b", 1, R"("-8Mi")") + "]}}")),
      R"(NodeNameToVictims["node-a"].Pods[1]: container "app": sgx.intel.com/epc limit "-8Mi" is negative)");
  // The preemptor's own: the pod decoder's message as for filter.
  const std::string preemptor =
      R"({"Pod":{"spec":{"containers":[{"name":"app","resources":{"requests":)"
      R"({"sgx.intel.com/epc":"lots"}}}]}},"NodeNameToMetaVictims":{}})";
  EXPECT_THAT(error_of(preemptor),
              HasSubstr(R"(container "app": sgx.intel.com/epc request "lots" is not a valid)"));
}

TEST_F(PreemptArgsDecoderTest, body_larger_than_the_capacity_is_an_error) {
  PreemptArgsDecoder small(64);
  PaddedBuffer body = test::padded(meta_body(R"({"n":{"Pods":[{"UID":"a"}]}})"));
  auto result = small.decode(body, {});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("exceeds the limit of 64 bytes"));
}

// ------------------------------------------------------------------------------------------------
// The result writer

std::string write_result(
    std::initializer_list<std::pair<std::string_view, std::vector<std::string_view>>> nodes,
    std::size_t size_hint = 0) {
  std::string reply = "left over";
  PreemptResultWriter writer(reply, size_hint);
  std::int64_t pdb = 0;
  for (const auto& [name, uids] : nodes) {
    writer.add_node(name, uids, pdb++);
  }
  writer.finish();
  return reply;
}

TEST(PreemptResultWriterTest, writes_meta_victims_per_node) {
  EXPECT_EQ(write_result({{"node-a", {"u-1"}}, {"node-b", {"u-2", "u-3"}}}),
            R"({"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"u-1"}],"NumPDBViolations":0},)"
            R"("node-b":{"Pods":[{"UID":"u-2"},{"UID":"u-3"}],"NumPDBViolations":1}}})");
}

TEST(PreemptResultWriterTest, no_node_is_an_empty_map) {
  EXPECT_EQ(write_result({}), R"({"NodeNameToMetaVictims":{}})");
}

TEST(PreemptResultWriterTest, node_without_uids_is_not_written) {
  // kube-scheduler refuses a returned node without a victim.
  EXPECT_EQ(write_result({{"empty", {}}, {"n", {"u"}}}),
            R"({"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"u"}],"NumPDBViolations":1}}})");
}

TEST(PreemptResultWriterTest, names_and_uids_are_escaped) {
  const std::string reply = write_result({{"n\"1\\", {"u\n"}}});
  EXPECT_EQ(
      reply,
      R"({"NodeNameToMetaVictims":{"n\"1\\":{"Pods":[{"UID":"u\n"}],"NumPDBViolations":0}}})");
  const boost::json::value parsed = boost::json::parse(reply);
  EXPECT_TRUE(parsed.as_object().at("NodeNameToMetaVictims").as_object().contains("n\"1\\"));
}

TEST(PreemptResultWriterTest, grows_past_a_small_hint) {
  std::vector<std::string> long_uids;
  for (int i = 0; i < 200; ++i) {
    long_uids.push_back(std::string(36, static_cast<char>('a' + i % 26)));
  }
  const std::vector<std::string_view> views(long_uids.begin(), long_uids.end());
  std::string reply;
  PreemptResultWriter writer(reply, 1);
  writer.add_node("n", views, 0);
  writer.finish();
  const boost::json::value parsed = boost::json::parse(reply);
  const boost::json::array& pods = parsed.as_object()
                                       .at("NodeNameToMetaVictims")
                                       .as_object()
                                       .at("n")
                                       .as_object()
                                       .at("Pods")
                                       .as_array();
  ASSERT_EQ(pods.size(), 200u);
  EXPECT_EQ(pods[199].as_object().at("UID").as_string(), long_uids[199]);
}

TEST(PreemptErrorTest, error_reply_is_an_empty_map_with_the_message) {
  std::string reply = "left over";
  write_preempt_error("bad \"body\"", reply);
  EXPECT_EQ(reply, R"({"NodeNameToMetaVictims":{},"Error":"bad \"body\""})");
}

}  // namespace
}  // namespace epc::http::codec
