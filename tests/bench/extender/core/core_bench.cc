// fit + score over a dense node table, per policy, beside a baseline twin that only walks the same
// rows summing free EPC. Read the cost of the core as the ratio of the two at the same node count.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "extender/core/fit.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_mix.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/fragmentation_aware.h"
#include "extender/core/score/policy.h"
#include "extender/core/score/top_tie_break.h"

namespace epc::core {
namespace {

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kNowNs = 10'000 * kSecondNs;

// A deterministic cluster: mixed EPC sizes, uneven use, a few stale or unhealthy nodes, so fit
// takes every branch and roughly four in five nodes reach scoring.
std::vector<NodeRow> make_rows(std::size_t count) {
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  constexpr std::int64_t kCapacities[] = {8 * kGi, 64 * kGi, 128 * kGi, 512 * kGi};
  std::vector<NodeRow> rows(count);
  for (NodeRow& row : rows) {
    row.ever_reported = true;
    row.has_sgx = next() % 50 != 0;
    row.health = next() % 100 == 0 ? NodeHealth::kUnhealthy : NodeHealth::kHealthy;
    row.epc_capacity_bytes = kCapacities[next() % 4];
    row.epc_section_count = 1;
    row.epc_section_bytes[0] = row.epc_capacity_bytes;
    row.epc_requested_bytes =
        row.epc_capacity_bytes / 100 * static_cast<std::int64_t>(next() % 100);
    row.live_used_known = next() % 2 == 0;
    row.epc_live_used_bytes = row.live_used_known ? row.epc_requested_bytes / 2 : 0;
    row.enclave_slots_total = 110;
    row.enclave_slots_used = static_cast<std::int64_t>(next() % 110);
    row.provision_slots_total = 110;
    row.report_time_ns = next() % 40 == 0 ? 0 : kNowNs - kSecondNs;
    // As the API watch gives them; only StrandingAware reads these.
    row.cpu_memory_known = true;
    row.cpu_allocatable_milli = 64'000;
    row.cpu_requested_milli = static_cast<std::int64_t>(next() % 64'000);
    row.memory_allocatable_bytes = 256 * kGi;
    row.memory_requested_bytes = 256 * kGi / 100 * static_cast<std::int64_t>(next() % 100);
  }
  return rows;
}

// Baseline twin: one pass over the same rows doing the least useful work (sum of free EPC).
void BM_BaselineSumFreeEpc(benchmark::State& state) {
  const std::vector<NodeRow> rows = make_rows(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::int64_t sum = 0;
    for (const NodeRow& row : rows) {
      sum += row.epc_capacity_bytes - row.epc_requested_bytes;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// What a filter + prioritize pair costs the core: fit every node, score the survivors.
void BM_FitScore(benchmark::State& state, score::PolicyKind kind) {
  const std::vector<NodeRow> rows = make_rows(static_cast<std::size_t>(state.range(0)));
  const PodRequest pod{.epc_bytes = 512 * kMi,
                       .enclave_slots = 1,
                       .provision_slots = 0,
                       .cpu_milli = 2000,
                       .memory_bytes = 4 * kGi};
  const FitContext fit_context{.now_ns = kNowNs,
                               .stale_after_ns = 30 * kSecondNs,
                               .accounting = {.epc_headroom_bytes = 64 * kMi}};
  const score::ScoreContext score_context{.accounting = fit_context.accounting, .weights = {}};
  // Buffers sized once, as the HTTP handler does per connection: the loop allocates nothing.
  std::vector<const NodeRow*> passed(rows.size());
  std::vector<std::int64_t> scores(rows.size());
  std::size_t last_passed = 0;
  for (auto _ : state) {
    std::size_t count = 0;
    for (const NodeRow& row : rows) {
      if (fit(pod, row, fit_context).fits()) {
        passed[count++] = &row;
      }
    }
    score::score_nodes(kind, pod, std::span<const NodeRow* const>(passed.data(), count),
                       score_context, std::span<std::int64_t>(scores.data(), count));
    benchmark::DoNotOptimize(scores.data());
    benchmark::ClobberMemory();
    last_passed = count;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["scored_nodes"] = static_cast<double>(last_passed);
}

// FragmentationAware as the handler runs it: the mix (32 distinct shapes, the most PodMix keeps)
// turned into a distribution per request, then fit + score, then the top singled out.
void BM_FitScoreFragmentationAware(benchmark::State& state) {
  const std::vector<NodeRow> rows = make_rows(static_cast<std::size_t>(state.range(0)));
  const PodRequest pod{.epc_bytes = 512 * kMi, .enclave_slots = 1, .provision_slots = 0};
  const FitContext fit_context{.now_ns = kNowNs,
                               .stale_after_ns = 30 * kSecondNs,
                               .accounting = {.epc_headroom_bytes = 64 * kMi}};
  PodMix mix;
  for (std::int64_t i = 1; i <= static_cast<std::int64_t>(PodMix::kMaxShapes); ++i) {
    for (std::int64_t repeat = 0; repeat < i % 5 + 1; ++repeat) {
      mix.observe(PodRequest{.epc_bytes = i * 128 * kMi, .enclave_slots = 1, .provision_slots = 0});
    }
  }
  std::vector<const NodeRow*> passed(rows.size());
  std::vector<std::int64_t> scores(rows.size());
  std::vector<std::uint64_t> keys(rows.size());
  std::size_t last_passed = 0;
  for (auto _ : state) {
    const score::MixDistribution distribution = score::MixDistribution::from_mix(mix);
    const score::ScoreContext score_context{
        .accounting = fit_context.accounting, .weights = {}, .mix = &distribution};
    std::size_t count = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (fit(pod, rows[i], fit_context).fits()) {
        keys[count] = i;
        passed[count++] = &rows[i];
      }
    }
    const std::span<std::int64_t> scored(scores.data(), count);
    score::score_nodes(score::PolicyKind::kFragmentationAware, pod,
                       std::span<const NodeRow* const>(passed.data(), count), score_context,
                       scored);
    score::single_out_top_score(scored, std::span<const std::uint64_t>(keys.data(), count), 42);
    benchmark::DoNotOptimize(scores.data());
    benchmark::ClobberMemory();
    last_passed = count;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["scored_nodes"] = static_cast<double>(last_passed);
}

BENCHMARK(BM_BaselineSumFreeEpc)->Arg(100)->Arg(1000)->Arg(5000);
BENCHMARK_CAPTURE(BM_FitScore, LeastAllocated, score::PolicyKind::kLeastAllocated)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000);
BENCHMARK_CAPTURE(BM_FitScore, MostAllocated, score::PolicyKind::kMostAllocated)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000);
BENCHMARK_CAPTURE(BM_FitScore, BestFit, score::PolicyKind::kBestFit)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000);
BENCHMARK_CAPTURE(BM_FitScore, StrandingAware, score::PolicyKind::kStrandingAware)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000);
BENCHMARK_CAPTURE(BM_FitScore, FragmentationAwareWithoutMix, score::PolicyKind::kFragmentationAware)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000);
BENCHMARK(BM_FitScoreFragmentationAware)->Arg(100)->Arg(1000)->Arg(5000);

}  // namespace
}  // namespace epc::core

BENCHMARK_MAIN();
