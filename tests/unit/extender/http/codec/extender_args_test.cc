#include "extender/http/codec/extender_args.h"

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::codec {
namespace {

using test::kMi;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::size_t kLimit = 1 << 20;

class ExtenderArgsDecoderTest : public ::testing::Test {
 protected:
  // Decodes `text`; the views stay valid until the next call (body_ is kept).
  common::Result<ExtenderArgsView> decode(std::string_view text,
                                          core::PodRequestOptions options = {}) {
    body_.assign(text);
    return decoder_.decode(body_, options);
  }

  std::string error_of(std::string_view text) {
    auto result = decode(text);
    EXPECT_FALSE(result.ok()) << "decoded although invalid: " << text;
    return result.ok() ? std::string() : result.error().message;
  }

  std::vector<std::string> names(const ExtenderArgsView& view) {
    return {view.node_names.begin(), view.node_names.end()};
  }

  PaddedBuffer body_;
  ExtenderArgsDecoder decoder_{kLimit};
};

// A pod with the given containers / initContainers JSON arrays, cache mode with two names.
std::string pod_body(std::string_view containers, std::string_view init_containers = "null",
                     std::string_view overhead = "null") {
  return std::string(
             R"({"Pod":{"metadata":{"name":"p","namespace":"ns","uid":"u-1"},"spec":{"containers":)") +
         std::string(containers) + R"(,"initContainers":)" + std::string(init_containers) +
         R"(,"overhead":)" + std::string(overhead) + R"(}},"Nodes":null,"NodeNames":["n1","n2"]})";
}

std::string container(std::string_view name, std::string_view epc, std::string_view enclave = "",
                      std::string_view extra = "") {
  std::string requests = R"("sgx.intel.com/epc":)" + std::string(epc);
  if (!enclave.empty()) {
    requests += R"(,"sgx.intel.com/enclave":)" + std::string(enclave);
  }
  return R"({"name":")" + std::string(name) + R"(","resources":{"requests":{)" + requests +
         R"(},"limits":{)" + requests + "}}" + std::string(extra) + "}";
}

// ------------------------------------------------------------------------------------------------
// Recorded kube-scheduler bodies

TEST_F(ExtenderArgsDecoderTest, recorded_node_names_body) {
  const std::string body = test::recorded("filter-request-nodenames.json");
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->pod.name, "sgx-small");
  EXPECT_EQ(args->pod.namespace_name, "default");
  EXPECT_EQ(args->pod.uid, "b1384c01-e267-4a96-85e7-e55bc97b8f3d");
  // 16Mi EPC and 1 enclave slot (ORIGIN.md).
  EXPECT_EQ(args->request, (core::PodRequest{16 * kMi, 1, 0}));
  EXPECT_EQ(args->source, NodeSource::kNodeNames);
  EXPECT_THAT(names(*args), ElementsAre("node-a", "node-b"));
  EXPECT_TRUE(args->node_items.empty());
}

class RecordedNodeListTest : public ExtenderArgsDecoderTest,
                             public ::testing::WithParamInterface<const char*> {};

TEST_P(RecordedNodeListTest, names_and_raw_items) {
  const std::string body = test::recorded(GetParam());
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->pod.name, "sgx-small");
  EXPECT_EQ(args->request, (core::PodRequest{16 * kMi, 1, 0}));
  EXPECT_EQ(args->source, NodeSource::kNodeList);
  const std::vector<std::string> expected_names =
      std::string(GetParam()).find("prioritize") != std::string::npos
          ? std::vector<std::string>{"node-a", "node-b"}
          : std::vector<std::string>{"node-a", "node-b", "node-c"};
  EXPECT_EQ(names(*args), expected_names);
  ASSERT_EQ(args->node_items.size(), expected_names.size());
  for (std::size_t i = 0; i < args->node_items.size(); ++i) {
    const std::string_view item = args->node_items[i];
    // The raw text is a verbatim slice of the body that parses to the same Node object.
    EXPECT_NE(body.find(item), std::string::npos);
    ASSERT_FALSE(item.empty());
    EXPECT_EQ(item.front(), '{');
    EXPECT_EQ(item.back(), '}');
    EXPECT_EQ(boost::json::parse(item), test::request_item(body, i)) << "item " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Recorded, RecordedNodeListTest,
                         ::testing::Values("filter-request-nodelist.json",
                                           "filter-request-nodelist-k8s1.36.json",
                                           "prioritize-request-nodelist.json"));

TEST_F(ExtenderArgsDecoderTest, raw_items_survive_whitespace_between_items) {
  const std::string body =
      "{ \"Pod\" : {\"spec\":{}} , \"Nodes\" : { \"items\" : [ {\"metadata\":{\"name\":\"a\"}} ,\n"
      "\t{\"metadata\" : {\"labels\":{\"x\":\"}\"},\"name\":\"b\"},\"status\":[1,{}]}  ] } }";
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  ASSERT_EQ(args->node_items.size(), 2u);
  EXPECT_EQ(args->node_items[0], R"({"metadata":{"name":"a"}})");
  EXPECT_EQ(args->node_items[1],
            R"({"metadata" : {"labels":{"x":"}"},"name":"b"},"status":[1,{}]})");
  EXPECT_THAT(names(*args), ElementsAre("a", "b"));
}

// ------------------------------------------------------------------------------------------------
// Keys, null and absent

TEST_F(ExtenderArgsDecoderTest, keys_match_case_insensitively) {
  auto args = decode(
      R"({"pod":{"METADATA":{"Name":"p","NAMESPACE":"ns","Uid":"u"},"Spec":{"Containers":[{"Name":"c","Resources":{"Requests":{"sgx.intel.com/epc":"2Mi"}}}]}},"nodenames":["x"]})");
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->pod.name, "p");
  EXPECT_EQ(args->pod.namespace_name, "ns");
  EXPECT_EQ(args->pod.uid, "u");
  EXPECT_EQ(args->request.epc_bytes, 2 * kMi);
  EXPECT_EQ(args->source, NodeSource::kNodeNames);
  EXPECT_THAT(names(*args), ElementsAre("x"));

  auto upper = decode(R"({"POD":{},"NODES":{"ITEMS":[{"METADATA":{"NAME":"y"}}]}})");
  ASSERT_TRUE(upper.ok()) << upper.error().message;
  EXPECT_EQ(upper->source, NodeSource::kNodeList);
  EXPECT_THAT(names(*upper), ElementsAre("y"));
}

TEST_F(ExtenderArgsDecoderTest, resource_names_match_exactly) {
  // ResourceList keys are map keys: "SGX.intel.com/epc" is another (unknown) resource.
  auto args =
      decode(pod_body(R"([{"name":"c","resources":{"requests":{"SGX.intel.com/epc":"1Mi"}}}])"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_FALSE(args->request.wants_sgx());
}

TEST_F(ExtenderArgsDecoderTest, null_and_absent_node_lists_mean_no_candidates) {
  for (const char* body : {R"({"Pod":{},"Nodes":null,"NodeNames":null})", R"({"Pod":{}})",
                           R"({"Pod":{},"Nodes":null})", R"({"Pod":{},"NodeNames":null})"}) {
    auto args = decode(body);
    ASSERT_TRUE(args.ok()) << body << ": " << args.error().message;
    EXPECT_EQ(args->source, NodeSource::kNone) << body;
    EXPECT_TRUE(args->node_names.empty()) << body;
  }
}

TEST_F(ExtenderArgsDecoderTest, nodes_null_with_names_is_cache_mode_and_nodes_win_over_names) {
  auto cache = decode(R"({"Pod":{},"Nodes":null,"NodeNames":["a","b"]})");
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(cache->source, NodeSource::kNodeNames);

  auto both = decode(
      R"({"Pod":{},"NodeNames":["a","b"],"Nodes":{"metadata":{},"items":[{"metadata":{"name":"c"}}]}})");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->source, NodeSource::kNodeList);
  EXPECT_THAT(names(*both), ElementsAre("c"));
}

TEST_F(ExtenderArgsDecoderTest, empty_lists_are_valid) {
  auto names_only = decode(R"({"Pod":{},"NodeNames":[]})");
  ASSERT_TRUE(names_only.ok());
  EXPECT_EQ(names_only->source, NodeSource::kNodeNames);
  EXPECT_TRUE(names_only->node_names.empty());
  auto items = decode(R"({"Pod":{},"Nodes":{"metadata":{},"items":null}})");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->source, NodeSource::kNodeList);
  EXPECT_TRUE(items->node_names.empty());
}

TEST_F(ExtenderArgsDecoderTest, unknown_keys_are_ignored_at_every_level) {
  auto args = decode(
      R"({"Extra":{"deep":[1,2,{"x":null}]},"Pod":{"kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},)"
      R"("spec":{"nodeSelector":{"k":"v"},"containers":[{"name":"c","image":"i","ports":[{"containerPort":1}],)"
      R"("resources":{"claims":[],"requests":{"cpu":"100m","memory":"1Gi","sgx.intel.com/epc":"4Mi"}}}]},)"
      R"("status":{"phase":"Pending"}},"NodeNames":["a"],"Trailing":true})");
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request.epc_bytes, 4 * kMi);
  EXPECT_THAT(names(*args), ElementsAre("a"));
}

TEST_F(ExtenderArgsDecoderTest, escaped_names_are_unescaped) {
  auto args =
      decode(R"({"Pod":{"metadata":{"name":"p\u002d1"}},"NodeNames":["node\u002da","n\"q"]})");
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->pod.name, "p-1");
  EXPECT_THAT(names(*args), ElementsAre("node-a", "n\"q"));
}

TEST_F(ExtenderArgsDecoderTest, node_names_of_every_length_and_spacing) {
  // The name scanner reads 8 bytes at a time: cover lengths around the word size, spacing, an
  // escape after plain names (generic path takes over) and an empty list with spaces.
  std::vector<std::string> expected;
  std::string list = "[ ";
  for (std::size_t length = 0; length <= 40; ++length) {
    std::string name(length, 'n');
    for (std::size_t i = 0; i < length; ++i) {
      name[i] = static_cast<char>('a' + (i % 26));
    }
    expected.push_back(name);
    list += (length > 0 ? " ,\n\t\"" : "\"") + name + "\"";
  }
  list += " ]";
  auto args = decode(R"({"Pod":{},"NodeNames":)" + list + "}");
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(names(*args), expected);

  auto escaped =
      decode(R"({"Pod":{},"NodeNames":["plain-1","plain-2","esc\u0061ped","x\"y","last"]})");
  ASSERT_TRUE(escaped.ok()) << escaped.error().message;
  EXPECT_THAT(names(*escaped), ElementsAre("plain-1", "plain-2", "escaped", "x\"y", "last"));

  auto spaced_empty = decode(R"({"Pod":{},"NodeNames":[  ]})");
  ASSERT_TRUE(spaced_empty.ok());
  EXPECT_EQ(spaced_empty->source, NodeSource::kNodeNames);
  EXPECT_TRUE(spaced_empty->node_names.empty());

  EXPECT_THAT(error_of(R"({"Pod":{},"NodeNames":["a","b",null]})"),
              HasSubstr("ExtenderArgs.NodeNames[] must be a string, got null"));
}

// ------------------------------------------------------------------------------------------------
// Pod request arithmetic (kube's rules live in core; here: the codec feeds them correctly)

TEST_F(ExtenderArgsDecoderTest, sidecar_init_container_adds_to_the_app_containers) {
  // app 64Mi/1 slot; sidecar (restartPolicy Always) 16Mi/1 declared before setup 100Mi/1:
  // sum = 64 + 16 = 80Mi, init_max = setup 100 + sidecar 16 = 116Mi → 116Mi.
  // slots: sum = 1 + 1 = 2, init_max = 1 + 1 = 2 → 2.
  auto args = decode(
      pod_body("[" + container("app", "\"64Mi\"", "\"1\"") + "]",
               "[" + container("sidecar", "\"16Mi\"", "\"1\"", R"(,"restartPolicy":"Always")") +
                   "," + container("setup", "\"100Mi\"", "\"1\"") + "]"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request, (core::PodRequest{116 * kMi, 2, 0}));
}

TEST_F(ExtenderArgsDecoderTest, sidecar_declared_after_an_init_container_does_not_overlap_it) {
  // setup 100Mi first, then sidecar 16Mi: init_max = 100Mi, sum = 64 + 16 = 80Mi → 100Mi.
  auto args = decode(
      pod_body("[" + container("app", "\"64Mi\"") + "]",
               "[" + container("setup", "\"100Mi\"") + "," +
                   container("sidecar", "\"16Mi\"", "", R"(,"restartPolicy":"Always")") + "]"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request.epc_bytes, 100 * kMi);
}

TEST_F(ExtenderArgsDecoderTest, only_restart_policy_always_makes_a_sidecar) {
  // "OnFailure" is a regular init container: max(64, 16) = 64Mi, not 64 + 16.
  auto args = decode(
      pod_body("[" + container("app", "\"64Mi\"") + "]",
               "[" + container("init", "\"16Mi\"", "", R"(,"restartPolicy":"OnFailure")") + "]"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request.epc_bytes, 64 * kMi);
}

TEST_F(ExtenderArgsDecoderTest, limits_stand_in_for_missing_requests_and_overhead_adds) {
  // c1 lists only limits (32Mi), c2 requests 8Mi; overhead 1Mi → 32 + 8 + 1 = 41Mi. The overhead's
  // 250m CPU is the pod's whole CPU request (no container lists any).
  auto args = decode(pod_body(
      R"([{"name":"c1","resources":{"limits":{"sgx.intel.com/epc":"32Mi","sgx.intel.com/enclave":"1"}}},)"
      R"({"name":"c2","resources":{"requests":{"sgx.intel.com/epc":"8Mi","sgx.intel.com/provision":"1"}}}])",
      "null", R"({"sgx.intel.com/epc":"1Mi","cpu":"250m"})"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request, (core::PodRequest{41 * kMi, 1, 1, /*cpu_milli=*/250}));
}

// ------------------------------------------------------------------------------------------------
// CPU and memory (CpuMemoryRequest's arithmetic, fed by the decoder)

TEST_F(ExtenderArgsDecoderTest, cpu_and_memory_follow_kube_schedulers_arithmetic) {
  // app: c1 requests 500m / 1Gi, c2 only limits 1 / 512Mi (limits stand in);
  // init: sidecar 100m / 64Mi (restartPolicy Always), then setup 2 / 128Mi;
  // overhead 250m / 120Mi.
  //   cpu: sum = 500 + 1000 + 100 = 1600m, init_max = 2000 + 100 = 2100m → 2100 + 250 = 2350m
  //   mem: sum = 1024 + 512 + 64 = 1600Mi, init_max = 128 + 64 = 192Mi → 1600 + 120 = 1720Mi
  const std::string body = pod_body(
      R"([{"name":"c1","resources":{"requests":{"cpu":"500m","memory":"1Gi","sgx.intel.com/epc":"16Mi"}}},)"
      R"({"name":"c2","resources":{"limits":{"cpu":"1","memory":"512Mi"}}}])",
      R"([{"name":"sidecar","restartPolicy":"Always","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}},)"
      R"({"name":"setup","resources":{"requests":{"cpu":"2","memory":"128Mi"}}}])",
      R"({"cpu":"250m","memory":"120Mi"})");
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request, (core::PodRequest{16 * kMi, 1, 0, 2350, 1720 * kMi}));
  // The generic path computes the same (the fast path took this cache-mode body).
  body_.assign(body);
  auto generic = decoder_.decode_generic_for_test(body_, {});
  ASSERT_TRUE(generic.ok()) << generic.error().message;
  EXPECT_EQ(generic->request, args->request);
}

TEST_F(ExtenderArgsDecoderTest, pod_level_requests_replace_the_container_sum) {
  // spec.resources.requests.cpu 4 replaces the containers' 500m (KEP-2837); memory, not listed at
  // pod level, stays the containers' 1Gi; the overhead adds to both: 4000 + 250 m, 1Gi + 0.
  const std::string body =
      R"({"Pod":{"metadata":{"name":"p","namespace":"ns","uid":"u-1"},"spec":{)"
      R"("resources":{"requests":{"cpu":"4"},"limits":{"cpu":"8","memory":"2Gi"}},)"
      R"("containers":[{"name":"c","resources":{"requests":{"cpu":"500m","memory":"1Gi"}}}],)"
      R"("overhead":{"cpu":"250m"}}},"NodeNames":["n1"]})";
  auto args = decode(body);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request.cpu_milli, 4250);
  EXPECT_EQ(args->request.memory_bytes, 1024 * kMi);
  EXPECT_FALSE(args->request.wants_sgx());
}

TEST_F(ExtenderArgsDecoderTest, cpu_and_memory_quantity_forms) {
  struct Row {
    const char* name;
    const char* cpu;
    const char* memory;
    std::int64_t cpu_milli;
    std::int64_t memory_bytes;
  };
  const Row rows[] = {
      {"millicores_and_binary_suffix", R"("15890m")", R"("64Gi")", 15890, 64 * 1024 * kMi},
      {"whole_cores_and_kibibytes", R"("16")", R"("131072Ki")", 16000, 128 * kMi},
      {"fraction_and_decimal_suffix", R"("0.5")", R"("1.5G")", 500, 1'500'000'000},
      {"exponents", R"("1e1")", R"("1e9")", 10'000, 1'000'000'000},
      {"bare_numbers", "2", "1048576", 2000, kMi},
      // Finer than 1m rounds up, as MilliValue() does; a fraction of a byte rounds up to 1.
      {"rounded_up", R"("1u")", R"("100m")", 1, 1},
      // Past int64: saturates (the API server accepts it; no node fits it).
      {"saturating", R"("1e30")", R"("1e30")", INT64_MAX, INT64_MAX},
  };
  for (const Row& row : rows) {
    auto args = decode(pod_body(std::string(R"([{"name":"c","resources":{"requests":{"cpu":)") +
                                row.cpu + R"(,"memory":)" + row.memory + "}}}]"));
    ASSERT_TRUE(args.ok()) << row.name << ": " << args.error().message;
    EXPECT_EQ(args->request.cpu_milli, row.cpu_milli) << row.name;
    EXPECT_EQ(args->request.memory_bytes, row.memory_bytes) << row.name;
  }
}

TEST_F(ExtenderArgsDecoderTest, bad_cpu_or_memory_quantities_name_the_container) {
  EXPECT_THAT(error_of(pod_body(R"([{"name":"app","resources":{"requests":{"cpu":"lots"}}}])")),
              HasSubstr(R"(container "app": cpu request "lots" is not a valid quantity)"));
  EXPECT_THAT(error_of(pod_body(R"([{"name":"app","resources":{"limits":{"memory":"-1Gi"}}}])")),
              HasSubstr(R"(container "app": memory limit "-1Gi" is negative)"));
  EXPECT_THAT(error_of(pod_body(R"([{"name":"app"}])", "null", R"({"cpu":"x"})")),
              HasSubstr(R"(pod overhead: cpu overhead "x" is not a valid quantity)"));
}

TEST_F(ExtenderArgsDecoderTest, bare_numbers_are_quantities) {
  auto args = decode(pod_body("[" + container("c", "16777216", "2") + "]"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(args->request, (core::PodRequest{16 * kMi, 2, 0}));
}

TEST_F(ExtenderArgsDecoderTest, epc_without_slot_option_is_passed_to_the_core) {
  const std::string body = pod_body("[" + container("c", "\"8Mi\"") + "]");
  auto implied = decode(body);
  ASSERT_TRUE(implied.ok());
  EXPECT_EQ(implied->request.enclave_slots, 1);
  auto explicit_only = decode(body, core::PodRequestOptions{.epc_implies_enclave_slot = false});
  ASSERT_TRUE(explicit_only.ok());
  EXPECT_EQ(explicit_only->request.enclave_slots, 0);
}

TEST_F(ExtenderArgsDecoderTest, pod_without_sgx_resources_wants_none) {
  auto args =
      decode(pod_body(R"([{"name":"c","resources":{"requests":{"cpu":"1"}}},{"name":"d"}])"));
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_FALSE(args->request.wants_sgx());
}

TEST_F(ExtenderArgsDecoderTest, decoder_is_reusable_and_forgets_the_previous_request) {
  auto big =
      decode(pod_body("[" + container("a", "\"64Mi\"") + "," + container("b", "\"64Mi\"") + "]"));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->request.epc_bytes, 128 * kMi);
  auto bad = decode("{");
  ASSERT_FALSE(bad.ok());
  auto small = decode(
      R"({"Pod":{"spec":{"containers":[{"resources":{"requests":{"sgx.intel.com/epc":"1Mi"}}}]}},"NodeNames":["z"]})");
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ(small->request.epc_bytes, 1 * kMi);
  EXPECT_EQ(small->pod.name, "");
  EXPECT_THAT(names(*small), ElementsAre("z"));
}

// ------------------------------------------------------------------------------------------------
// Errors

TEST_F(ExtenderArgsDecoderTest, malformed_json_is_an_error) {
  for (const char* body : {"", "{", "not json", R"({"Pod":{},"NodeNames":["a",]})",
                           R"({"Pod":{}} trailing)", R"({"Pod":{"metadata":{"name":"x})"}) {
    const std::string message = error_of(body);
    EXPECT_THAT(message, HasSubstr("malformed JSON")) << body;
  }
}

TEST_F(ExtenderArgsDecoderTest, wrong_types_are_errors_that_name_the_field) {
  EXPECT_THAT(error_of("[]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error_of(R"({"Pod":[]})"), HasSubstr("ExtenderArgs.Pod must be an object"));
  EXPECT_THAT(error_of(R"({"Pod":{},"NodeNames":"a"})"),
              HasSubstr("ExtenderArgs.NodeNames must be an array"));
  EXPECT_THAT(error_of(R"({"Pod":{},"NodeNames":["a",1]})"),
              HasSubstr("ExtenderArgs.NodeNames[] must be a string, got a number"));
  EXPECT_THAT(error_of(R"({"Pod":{},"Nodes":[]})"),
              HasSubstr("ExtenderArgs.Nodes must be an object"));
  EXPECT_THAT(error_of(R"({"Pod":{},"Nodes":{"items":[{"metadata":{"name":5}}]}})"),
              HasSubstr("Node metadata.name must be a string"));
  EXPECT_THAT(error_of(R"({"Pod":{},"Nodes":{"items":[{"metadata":{}}]}})"),
              HasSubstr("items[0] has no metadata.name"));
  EXPECT_THAT(error_of(R"({"Pod":{},"Nodes":{"items":[null]}})"), HasSubstr("items[0] is null"));
  EXPECT_THAT(error_of(R"({"Pod":{"spec":{"containers":{}}}})"),
              HasSubstr("Pod.spec.containers must be an array"));
  EXPECT_THAT(error_of(R"({"Pod":{"metadata":{"name":true}}})"),
              HasSubstr("Pod.metadata.name must be a string"));
  EXPECT_THAT(error_of(R"({"Pod":{"spec":{"containers":[{"resources":{"requests":[]}}]}}})"),
              HasSubstr("resources.requests must be an object"));
}

TEST_F(ExtenderArgsDecoderTest, missing_pod_is_an_error) {
  EXPECT_THAT(error_of(R"({"NodeNames":["a"]})"), HasSubstr("Pod is missing"));
  EXPECT_THAT(error_of(R"({"Pod":null,"NodeNames":["a"]})"), HasSubstr("Pod is missing"));
}

TEST_F(ExtenderArgsDecoderTest, negative_quantity_names_container_and_resource) {
  const std::string message = error_of(pod_body("[" + container("app", "\"-16Mi\"") + "]"));
  EXPECT_EQ(message, R"(container "app": sgx.intel.com/epc request "-16Mi" is negative)");
}

TEST_F(ExtenderArgsDecoderTest, malformed_quantity_names_container_and_resource) {
  const std::string message =
      error_of(pod_body("[" + container("app", "\"1Mi\"", "\"lots\"") + "]"));
  EXPECT_THAT(message, HasSubstr(R"(container "app": sgx.intel.com/enclave request "lots")"));
  EXPECT_THAT(message, HasSubstr("not a valid quantity"));
}

TEST_F(ExtenderArgsDecoderTest, fractional_slot_count_is_an_error) {
  EXPECT_THAT(error_of(pod_body("[" + container("app", "\"1Mi\"", "\"0.5\"") + "]")),
              HasSubstr("sgx.intel.com/enclave request \"0.5\""));
}

TEST_F(ExtenderArgsDecoderTest, bad_quantity_in_init_container_or_overhead) {
  EXPECT_THAT(error_of(pod_body("[]", "[" + container("setup", "\"1Xi\"") + "]")),
              HasSubstr(R"(init container "setup": sgx.intel.com/epc request "1Xi")"));
  EXPECT_THAT(error_of(pod_body("[]", "null", R"({"sgx.intel.com/epc":"-1"})")),
              HasSubstr(R"(pod overhead: sgx.intel.com/epc overhead "-1" is negative)"));
  // Name given after resources, and unnamed containers (by index).
  EXPECT_THAT(
      error_of(pod_body(R"([{"resources":{"limits":{"sgx.intel.com/epc":"x"}},"name":"late"}])")),
      HasSubstr(R"(container "late": sgx.intel.com/epc limit "x")"));
  EXPECT_THAT(error_of(pod_body(R"([{},{"resources":{"limits":{"sgx.intel.com/epc":"x"}}}])")),
              HasSubstr("container #1: sgx.intel.com/epc limit"));
  EXPECT_THAT(
      error_of(pod_body(R"([{"name":"o","resources":{"limits":{"sgx.intel.com/epc":{}}}}])")),
      HasSubstr("is not a quantity"));
}

TEST_F(ExtenderArgsDecoderTest, body_larger_than_the_capacity_is_an_error) {
  ExtenderArgsDecoder small(64);
  PaddedBuffer body = test::padded(
      R"({"Pod":{},"NodeNames":["a-rather-long-node-name-here","b-another-long-name"]})");
  auto result = small.decode(body, {});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("exceeds the limit of 64 bytes"));
}

}  // namespace
}  // namespace epc::http::codec
