#include "extender/http/codec/cpu_memory_request.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace epc::http::codec {
namespace {

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// One container as the decoder meets it: requests and limits (nullopt = not listed).
struct Container {
  CpuMemoryAmounts requests;
  CpuMemoryAmounts limits;
  bool restartable = false;
};

CpuMemoryAmounts amounts(std::optional<std::int64_t> cpu, std::optional<std::int64_t> memory) {
  return CpuMemoryAmounts{.cpu_milli = cpu, .memory_bytes = memory};
}

Container requests(std::int64_t cpu, std::int64_t memory, bool restartable = false) {
  return Container{.requests = amounts(cpu, memory), .limits = {}, .restartable = restartable};
}

// ------------------------------------------------------------------------------------------------
// The arithmetic: kube-scheduler's PodRequests for cpu and memory.

TEST(CpuMemoryRequest, table) {
  struct Row {
    const char* name;
    std::vector<Container> containers;
    std::vector<Container> init_containers;
    CpuMemoryAmounts overhead;
    CpuMemoryAmounts pod_requests;
    CpuMemory want;
  };
  const Row rows[] = {
      // Nothing listed: 0 / 0.
      {"empty", {}, {}, {}, {}, {0, 0}},
      // 100 + 200 = 300m; 64 + 0 = 64Mi.
      {"app_containers_add",
       {requests(100, 64 * kMi), requests(200, 0)},
       {},
       {},
       {},
       {300, 64 * kMi}},
      // requests absent, limits 1000m / 1Gi: the limits stand in (the API server's default).
      {"limits_stand_in",
       {Container{.requests = {}, .limits = amounts(1000, 1024 * kMi)}},
       {},
       {},
       {},
       {1000, 1024 * kMi}},
      // Per resource: cpu requested 100m (limit 2000m ignored), memory only limited 1Gi.
      {"limits_stand_in_per_resource",
       {Container{.requests = amounts(100, std::nullopt), .limits = amounts(2000, 1024 * kMi)}},
       {},
       {},
       {},
       {100, 1024 * kMi}},
      // An explicit "0" request wins over the limit: 0m, not 500m.
      {"explicit_zero_request",
       {Container{.requests = amounts(0, 0), .limits = amounts(500, 8 * kMi)}},
       {},
       {},
       {},
       {0, 0}},
      // Regular init containers run alone: max(app 500, init 2000, init 300) = 2000m;
      // memory max(256, 64, 512) = 512Mi.
      {"init_max",
       {requests(500, 256 * kMi)},
       {requests(2000, 64 * kMi), requests(300, 512 * kMi)},
       {},
       {},
       {2000, 512 * kMi}},
      // Sidecar 100m/64Mi before setup 2000m/128Mi: sum = 500 + 100 = 600, init_max = 2100 → 2100m;
      // memory: sum = 256 + 64 = 320, init_max = 192 → 320Mi.
      {"sidecar_before_init",
       {requests(500, 256 * kMi)},
       {requests(100, 64 * kMi, true), requests(2000, 128 * kMi)},
       {},
       {},
       {2100, 320 * kMi}},
      // Sidecar after setup: init_max = 2000 (no sidecar running yet), sum = 600 → 2000m.
      {"sidecar_after_init",
       {requests(500, 256 * kMi)},
       {requests(2000, 128 * kMi), requests(100, 64 * kMi, true)},
       {},
       {},
       {2000, 320 * kMi}},
      // Overhead adds: 300 + 250 = 550m; 64 + 120 = 184Mi.
      {"overhead_adds",
       {requests(300, 64 * kMi)},
       {},
       amounts(250, 120 * kMi),
       {},
       {550, 184 * kMi}},
      // Pod-level cpu 4000m replaces the containers' 300m, then the overhead adds: 4250m; memory
      // not listed at pod level: 64 + 120 = 184Mi.
      {"pod_level_replaces_then_overhead",
       {requests(300, 64 * kMi)},
       {},
       amounts(250, 120 * kMi),
       amounts(4000, std::nullopt),
       {4250, 184 * kMi}},
      // Sums clamp at INT64_MAX instead of wrapping.
      {"saturates", {requests(kMax, kMax), requests(1, 1)}, {}, amounts(1, 1), {}, {kMax, kMax}},
      // Negative amounts (refused by the decoder) count as 0.
      {"negative_is_zero", {requests(-5, -5), requests(10, 10)}, {}, amounts(-1, -1), {}, {10, 10}},
  };
  for (const Row& row : rows) {
    CpuMemoryRequest request;
    request.begin_containers();
    for (const Container& c : row.containers) {
      request.add_container(c.requests, c.limits);
    }
    request.begin_init_containers();
    for (const Container& c : row.init_containers) {
      request.add_init_container(c.requests, c.limits, c.restartable);
    }
    request.overhead() = row.overhead;
    request.pod_requests() = row.pod_requests;
    EXPECT_EQ(request.total(), row.want) << row.name;
  }
}

TEST(CpuMemoryRequest, a_repeated_list_replaces_the_earlier_one) {
  CpuMemoryRequest request;
  request.begin_containers();
  request.add_container(amounts(100, 1), {});
  request.begin_init_containers();
  request.add_init_container(amounts(9000, 9), {}, false);
  // The second "containers" and "initContainers" keys (Go keeps the last).
  request.begin_containers();
  request.add_container(amounts(200, 2), {});
  request.begin_init_containers();
  EXPECT_EQ(request.total(), (CpuMemory{200, 2}));
  request.clear();
  EXPECT_EQ(request.total(), (CpuMemory{0, 0}));
}

// ------------------------------------------------------------------------------------------------
// Quantities

TEST(ParseCpuMilli, table) {
  struct Row {
    const char* text;
    std::int64_t want;
  };
  const Row rows[] = {
      {"15890m", 15890},  // as kubelet reports allocatable
      {"16", 16000},      {"0.5", 500},   {"1.25", 1250},
      {"100m", 100},      {"1u", 1},       // finer than 1m rounds up (MilliValue)
      {"2e3", 2'000'000},                  // 2000 cores
      {"0", 0},           {"1e30", kMax},  // past int64: saturates
  };
  for (const Row& row : rows) {
    auto parsed = parse_cpu_milli(row.text);
    ASSERT_TRUE(parsed.ok()) << row.text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, row.want) << row.text;
  }
  EXPECT_FALSE(parse_cpu_milli("four").ok());
  EXPECT_FALSE(parse_cpu_milli("").ok());
  EXPECT_FALSE(parse_cpu_milli("1 ").ok());
}

TEST(ParseMemoryBytes, table) {
  struct Row {
    const char* text;
    std::int64_t want;
  };
  const Row rows[] = {
      {"64Gi", 64 * 1024 * kMi},
      {"131072Ki", 128 * kMi},
      {"16318712Ki", std::int64_t{16318712} * 1024},  // a real node's allocatable
      {"1.5G", 1'500'000'000},
      {"1e9", 1'000'000'000},
      {"134217728", 128 * kMi},
      {"0.5Ki", 512},
      {"100m", 1},        // a tenth of a byte rounds up to one (Value)
      {"1.0001k", 1001},  // 1000.1 bytes → 1001
      {"8Ei", kMax},      // 2^63: one past int64, saturates
      {"1e30", kMax},
  };
  for (const Row& row : rows) {
    auto parsed = parse_memory_bytes(row.text);
    ASSERT_TRUE(parsed.ok()) << row.text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, row.want) << row.text;
  }
  EXPECT_FALSE(parse_memory_bytes("16 Gi").ok());
  EXPECT_FALSE(parse_memory_bytes("1Gb").ok());
  auto negative = parse_memory_bytes("-1Gi");
  ASSERT_TRUE(negative.ok());  // the callers refuse negatives with their own wording
  EXPECT_EQ(*negative, -1024 * kMi);
}

}  // namespace
}  // namespace epc::http::codec
