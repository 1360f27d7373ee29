// The pod and node decoders' CPU and memory, on bodies recorded from a real kube-apiserver
// (tests/data/kube-apiserver, see its ORIGIN.md) and on lines written like them.
#include "extender/kube/api_objects.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/captured_api_data.h"

namespace epc::kube {
namespace {

using epc::test_support::captured;
using epc::test_support::captured_lines;
using epc::test_support::without_newline;

using ::testing::HasSubstr;

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;

// ------------------------------------------------------------------------------------------------
// Pods

TEST(PodDecoderCpuMemory, ListGivesEveryPodWithItsNodeAndRequests) {
  std::string body = captured("list-pods-all.json");
  PodDecoder decoder{core::PodRequestOptions{}};
  std::vector<core::ApiPod> sgx;
  std::vector<PodCpuMemory> all;
  auto page = decoder.decode_list(body, sgx, &all);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(sgx.size(), 5u);  // unchanged: the SGX pods only
  // Every container requests 100m; the plain pods also 64Mi (ORIGIN.md's starting pods).
  const std::map<std::string, PodCpuMemory> expected = {
      {"aeee4516-3e68-4aa6-aec3-d511a3aa269d",
       {"aeee4516-3e68-4aa6-aec3-d511a3aa269d", "node-b", false, 100, 64 * kMi}},  // plain-bound-b
      {"db533e12-9dcb-467d-bc47-d535c8fd6885",
       {"db533e12-9dcb-467d-bc47-d535c8fd6885", "node-a", false, 100, 0}},  // sgx-bound-a
      {"122acc81-1b35-4667-8d5f-d09366f73716",
       {"122acc81-1b35-4667-8d5f-d09366f73716", "", false, 100, 64 * kMi}},  // plain-pending
      {"6d08bb6d-ffaf-4489-a4f0-56643919d927",
       {"6d08bb6d-ffaf-4489-a4f0-56643919d927", "node-c", false, 100, 0}},  // sgx-bound-c
      {"bb293a9b-1357-41be-a381-208f6116d1d3",
       {"bb293a9b-1357-41be-a381-208f6116d1d3", "node-a", true, 100, 0}},  // sgx-done-a
      {"ec1ec793-a147-472a-9f60-5712a9b0927f",
       {"ec1ec793-a147-472a-9f60-5712a9b0927f", "", false, 100, 0}},  // sgx-pending-1
      {"49c83f43-9c64-4a0c-bb30-919892ab5d23",
       {"49c83f43-9c64-4a0c-bb30-919892ab5d23", "", false, 100, 0}},  // sgx-pending-2
  };
  ASSERT_EQ(all.size(), expected.size());
  for (const PodCpuMemory& pod : all) {
    auto it = expected.find(pod.uid);
    ASSERT_NE(it, expected.end()) << pod.uid;
    EXPECT_EQ(pod, it->second) << pod.uid;
  }
  // The SGX pods' requests carry their CPU too; their EPC is as before.
  for (const core::ApiPod& pod : sgx) {
    EXPECT_EQ(pod.request.cpu_milli, 100) << pod.pod.namespace_name;
    EXPECT_EQ(pod.request.memory_bytes, 0) << pod.pod.namespace_name;
  }
}

TEST(PodDecoderCpuMemory, WatchEventsOfPodsWithoutSgxAreDecodedWhenBound) {
  // 13-watch-pods-from-list-rv: watch-demo (SGX, no cpu/memory) created, labelled, bound to
  // node-b, force-deleted; watch-graceful (no SGX, no requests) created bound to node-b,
  // gracefully deleted; a bookmark.
  const std::vector<std::string> lines = captured_lines("watch-pods-from-list-rv.jsonl");
  ASSERT_EQ(lines.size(), 10u);
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  struct Expected {
    bool has_cpu_memory;
    std::string node;
  };
  const std::vector<Expected> expected = {
      {true, ""},       {true, ""},       {true, "node-b"}, {true, "node-b"}, {true, "node-b"},
      {true, "node-b"}, {true, "node-b"}, {true, "node-b"}, {true, "node-b"}, {false, ""},
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto decoded = decoder.decode_event(lines[i], event);
    ASSERT_TRUE(decoded.ok()) << i << ": " << decoded.error().message;
    EXPECT_EQ(event.has_cpu_memory, expected[i].has_cpu_memory) << i;
    if (event.has_cpu_memory) {
      EXPECT_EQ(event.cpu_memory.node, expected[i].node) << i;
      EXPECT_EQ(event.cpu_memory.cpu_milli, 0) << i;
      EXPECT_EQ(event.cpu_memory.memory_bytes, 0) << i;
      EXPECT_FALSE(event.cpu_memory.terminal) << i;
      EXPECT_EQ(event.cpu_memory.uid, i < 5 ? "2f3b52b6-4c65-4e03-849a-a1a9f2b5cca0"
                                            : "635b355b-b3b2-45b1-ae98-4dd118be0a1c")
          << i;
    }
  }
}

TEST(PodDecoderCpuMemory, CanonicalizedQuantitiesOfARecordedPod) {
  // The API server wrote cpu "0.25" back as "250m"; memory "134217728" stays bytes.
  const std::string object = without_newline(captured("pod-quantity-canonicalization-201.json"));
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  auto decoded = decoder.decode_event(R"({"type":"ADDED","object":)" + object + "}", event);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_TRUE(event.sgx);
  EXPECT_EQ(event.pod.request,
            (core::PodRequest{512 * kMi, 1, 0, /*cpu_milli=*/250, /*memory_bytes=*/128 * kMi}));
  ASSERT_TRUE(event.has_cpu_memory);
  EXPECT_EQ(event.cpu_memory,
            (PodCpuMemory{"bf2baf12-eb2c-47df-b775-71de67342996", "", false, 250, 128 * kMi}));
}

TEST(PodDecoderCpuMemory, UnboundPodsWithoutSgxAreSkippedCheaply) {
  // Neither SGX nor "nodeName": such a pod was never bound, so only the version is read (a broken
  // spec there goes unnoticed, which proves it).
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  auto decoded = decoder.decode_event(
      R"({"type":"ADDED","object":{"metadata":{"uid":"u","resourceVersion":"7"},)"
      R"("spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots"}}}]}}})",
      event);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(event.has_cpu_memory);
  EXPECT_EQ(event.resource_version, "7");

  // Bound: decoded, and a bad quantity is an error.
  auto bound = decoder.decode_event(
      R"({"type":"MODIFIED","object":{"metadata":{"uid":"u","resourceVersion":"8"},)"
      R"("spec":{"nodeName":"n","containers":[{"name":"c","resources":{"requests":{"cpu":"lots"}}}]}}})",
      event);
  ASSERT_FALSE(bound.ok());
  EXPECT_THAT(bound.error().message, HasSubstr(R"(cpu request "lots")"));
}

TEST(PodDecoderCpuMemory, TerminalPhasesAndInitContainers) {
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  // app 500m/1Gi; init 2/256Mi → max(500, 2000) = 2000m, max(1Gi, 256Mi) = 1Gi.
  const std::string spec =
      R"("spec":{"nodeName":"n","containers":[{"name":"a","resources":{"requests":)"
      R"({"cpu":"500m","memory":"1Gi"}}}],"initContainers":[{"name":"i","resources":)"
      R"({"requests":{"cpu":"2","memory":"256Mi"}}}]})";
  for (const auto& [phase, terminal] : std::vector<std::pair<std::string, bool>>{
           {"Running", false}, {"Succeeded", true}, {"Failed", true}, {"Unknown", false}}) {
    auto decoded = decoder.decode_event(R"({"type":"MODIFIED","object":{"metadata":{"uid":"u"},)" +
                                            spec + R"(,"status":{"phase":")" + phase + R"("}}})",
                                        event);
    ASSERT_TRUE(decoded.ok()) << phase << ": " << decoded.error().message;
    ASSERT_TRUE(event.has_cpu_memory) << phase;
    EXPECT_EQ(event.cpu_memory, (PodCpuMemory{"u", "n", terminal, 2000, kGi})) << phase;
    EXPECT_EQ(event.cpu_memory.counted(), !terminal) << phase;
  }
}

TEST(PodDecoderCpuMemory, PodsWithoutUidAreNotCounted) {
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  auto decoded = decoder.decode_event(
      R"({"type":"ADDED","object":{"metadata":{"name":"x"},"spec":{"nodeName":"n"}}})", event);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(event.has_cpu_memory);
}

// ------------------------------------------------------------------------------------------------
// Nodes

TEST(NodeDecoderCpuMemory, RecordedListGivesAllocatableCpuAndMemory) {
  std::string body = captured("list-nodes.json");
  NodeDecoder decoder{core::PodRequestOptions{}};
  std::vector<state::ApiNode> nodes;
  auto page = decoder.decode_list(body, nodes);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(nodes.size(), 3u);
  // ORIGIN.md: node-a and node-b 8 CPUs and 16Gi, node-c 4 and 8Gi.
  const std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected = {
      {"node-a", {8000, 16 * kGi}}, {"node-b", {8000, 16 * kGi}}, {"node-c", {4000, 8 * kGi}}};
  for (const state::ApiNode& node : nodes) {
    ASSERT_TRUE(expected.contains(node.name)) << node.name;
    EXPECT_EQ(node.cpu_allocatable_milli, expected.at(node.name).first) << node.name;
    EXPECT_EQ(node.memory_allocatable_bytes, expected.at(node.name).second) << node.name;
  }
}

TEST(NodeDecoderCpuMemory, QuantityForms) {
  struct Row {
    const char* name;
    const char* cpu;
    const char* memory;
    std::int64_t cpu_milli;
    std::int64_t memory_bytes;
  };
  const Row rows[] = {
      // What kubelet reports after system reservations.
      {"kubelet_millicores_kibibytes", "15890m", "131072Ki", 15890, 128 * kMi},
      {"whole_cores_gibibytes", "16", "64Gi", 16000, 64 * kGi},
      {"decimal_suffix", "1.5", "1.5G", 1500, 1'500'000'000},
      {"exponent", "4e0", "1e9", 4000, 1'000'000'000},
      {"saturating", "1e30", "1e30", std::numeric_limits<std::int64_t>::max(),
       std::numeric_limits<std::int64_t>::max()},
  };
  NodeDecoder decoder{core::PodRequestOptions{}};
  NodeEvent event;
  for (const Row& row : rows) {
    const std::string line =
        std::string(R"({"type":"ADDED","object":{"metadata":{"name":"n","resourceVersion":"5"},)"
                    R"("status":{"allocatable":{"cpu":")") +
        row.cpu + R"(","memory":")" + row.memory + R"(","sgx.intel.com/epc":"8Gi"}}}})";
    auto decoded = decoder.decode_event(line, event);
    ASSERT_TRUE(decoded.ok()) << row.name << ": " << decoded.error().message;
    EXPECT_EQ(event.node.cpu_allocatable_milli, row.cpu_milli) << row.name;
    EXPECT_EQ(event.node.memory_allocatable_bytes, row.memory_bytes) << row.name;
    EXPECT_EQ(event.node.epc_bytes, 8 * kGi) << row.name;
  }

  // Not listed: nullopt (the row stays unknown), not 0.
  auto bare = decoder.decode_event(
      R"({"type":"ADDED","object":{"metadata":{"name":"n"},"status":{"allocatable":{}}}})", event);
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_EQ(event.node.cpu_allocatable_milli, std::nullopt);
  EXPECT_EQ(event.node.memory_allocatable_bytes, std::nullopt);

  for (const char* bad : {R"("cpu":"fast")", R"("memory":"-1Gi")", R"("cpu":8)"}) {
    auto refused = decoder.decode_event(
        std::string(
            R"({"type":"ADDED","object":{"metadata":{"name":"n"},"status":{"allocatable":{)") +
            bad + "}}}}",
        event);
    EXPECT_FALSE(refused.ok()) << bad;
  }
}

}  // namespace
}  // namespace epc::kube
