// handler_bench: the filter and prioritize hot path in process, without sockets, on the same
// 5,000-node cluster and request as http_bench. Each stage is measured on its own (decode; filter
// or prioritize on an already decoded request) so that callgrind can attribute instructions per
// node to one stage:
//   valgrind --tool=callgrind --toggle-collect='epc::http::handlers::filter*'
//       handler_bench --benchmark_filter=Filter --benchmark_min_time=0.01
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "extender/config/extender_config.h"
#include "extender/http/connection_context.h"
#include "extender/http/handlers/filter.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/http/handlers/prioritize.h"
#include "extender/state/clock.h"
#include "tests/bench/extender/http/bench_cluster.h"

namespace epc::http {
namespace {

void die(const std::string& what) {
  std::fprintf(stderr, "handler_bench: %s\n", what.c_str());
  std::exit(1);
}

struct Fixture {
  Fixture() : cluster(bench::make_cluster()) {
    if (cluster == nullptr) {
      die("the cluster state lost reports");
    }
    snapshot = cluster->snapshot();
    settings = handlers::settings_from_config(config);
  }
  config::ExtenderConfig config;
  std::unique_ptr<state::ClusterState> cluster;
  state::ClusterSnapshotPtr snapshot;
  handlers::HandlerSettings settings;
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

void BM_Decode(benchmark::State& bench) {
  Fixture& f = fixture();
  ConnectionContext context(f.config.http_body_limit_bytes);
  context.request_body.assign(bench::request_body());
  for (auto _ : bench) {
    auto args = context.decoder.decode(context.request_body, f.settings.pod_request);
    if (!args.ok()) {
      die(args.error().message);
    }
    benchmark::DoNotOptimize(args->node_names.data());
  }
  bench.SetItemsProcessed(bench.iterations() * bench::kNodes);
}

enum class Verb { kFilter, kPrioritize };

// The verb's handler on a request decoded once before the loop (the views stay valid: the body and
// the decoder are not touched inside the loop).
void BM_Verb(benchmark::State& bench, Verb verb) {
  Fixture& f = fixture();
  ConnectionContext context(f.config.http_body_limit_bytes);
  context.request_body.assign(bench::request_body());
  auto args = context.decoder.decode(context.request_body, f.settings.pod_request);
  if (!args.ok()) {
    die(args.error().message);
  }
  // Warm-up (not measured): a connection's first request fills the name memo and sizes the
  // buffers; the steady state is what kube-scheduler's keep-alive connection sees.
  const auto run = [&] {
    if (verb == Verb::kFilter) {
      handlers::filter(*args, *f.snapshot, f.settings, state::monotonic_now_ns(), context.scratch,
                       context.reply_body);
    } else {
      handlers::prioritize(*args, *f.snapshot, f.settings, state::monotonic_now_ns(),
                           context.scratch, context.reply_body);
    }
  };
  run();
  for (auto _ : bench) {
    run();
    benchmark::DoNotOptimize(context.reply_body.data());
  }
  bench.SetItemsProcessed(bench.iterations() * bench::kNodes);
  bench.counters["reply_bytes"] = static_cast<double>(context.reply_body.size());
}

BENCHMARK(BM_Decode)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verb, Filter, Verb::kFilter)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verb, Prioritize, Verb::kPrioritize)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace epc::http

BENCHMARK_MAIN();
