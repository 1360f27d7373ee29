// watch_ingest_bench: pod watch events per second, decoded and applied.
//
//   BM_Decode/<sgx_every>   PodDecoder::decode_event alone over captured-shape lines (~2.1 KB);
//                           every <sgx_every>-th pod is an SGX pod (1 = all, 10 = a cluster where
//                           one pod in ten uses SGX, 100 = one in a hundred).
//   BM_Ingest/<sgx_every>   the informer's whole path: PodWatchTarget::event (decode, reduce to an
//                           ApiPod, queue a batch for the writer) and the state writer applying and
//                           publishing them (flush() per 10,000 events is inside the timing), over
//                           a ClusterState holding 5,000 API-only nodes.
//   BM_Baseline             the floor: a memchr for '\n' over the same bytes (what reading the
//                           stream's lines costs at least).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "extender/core/pod_request.h"
#include "extender/kube/api_objects.h"
#include "extender/kube/watch_targets.h"
#include "extender/state/cluster_state.h"
#include "tests/bench/extender/kube/pod_event_lines.h"

namespace epc::kube {
namespace {

constexpr int kLines = 10000;
constexpr int kNodes = 5000;

const std::vector<std::string>& lines(int sgx_every) {
  static std::vector<std::string> cache[101];
  auto& out = cache[sgx_every];
  if (out.empty()) {
    out = bench::pod_event_lines(kLines, sgx_every, kNodes);
  }
  return out;
}

std::int64_t total_bytes(const std::vector<std::string>& batch) {
  std::int64_t bytes = 0;
  for (const auto& line : batch) {
    bytes += static_cast<std::int64_t>(line.size());
  }
  return bytes;
}

void BM_Baseline(benchmark::State& state) {
  const auto& batch = lines(10);
  for (auto _ : state) {
    std::size_t newlines = 0;
    for (const auto& line : batch) {
      newlines += std::memchr(line.data(), '\n', line.size()) == nullptr ? 1 : 0;
    }
    benchmark::DoNotOptimize(newlines);
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * total_bytes(batch));
}

void BM_Decode(benchmark::State& state) {
  const auto& batch = lines(static_cast<int>(state.range(0)));
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  std::size_t sgx = 0;
  for (auto _ : state) {
    for (const auto& line : batch) {
      auto result = decoder.decode_event(line, event);
      sgx += result.ok() && event.sgx ? 1 : 0;
    }
  }
  benchmark::DoNotOptimize(sgx);
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * total_bytes(batch));
}

void BM_Ingest(benchmark::State& state) {
  const auto& batch = lines(static_cast<int>(state.range(0)));
  state::ClusterState::Options options;
  options.api_configured = true;
  auto cluster = state::ClusterState::create(std::move(options));
  state::ApiNodeBatch nodes;
  nodes.replace = true;
  for (int i = 0; i < kNodes; ++i) {
    state::ApiNode node;
    node.name = bench::node_name(i);
    node.epc_bytes = std::int64_t{8} << 30;
    node.enclave_slots = 110;
    nodes.upserts.push_back(std::move(node));
  }
  cluster->apply_api_nodes(std::move(nodes));
  cluster->flush();
  PodWatchTarget target(*cluster, core::PodRequestOptions{});
  for (auto _ : state) {
    for (const auto& line : batch) {
      auto outcome = target.event(line);
      benchmark::DoNotOptimize(outcome);
    }
    cluster->flush();  // applied and published
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * total_bytes(batch));
  state.counters["pods_in_table"] = static_cast<double>(cluster->snapshot()->pods().size());
}

BENCHMARK(BM_Baseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace epc::kube

BENCHMARK_MAIN();
