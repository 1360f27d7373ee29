// http_bench: 5,000-node filter and prioritize requests (cache mode) POSTed over a loopback
// keep-alive connection to an in-process HttpServer (one I/O thread) backed by a populated
// ClusterState, beside the SAME payloads POSTed to null-handler routes on the same server. A null
// route answers with the constant reply bytes our route produced for that payload, so the two
// differ only by the handler's work (decode, snapshot, fit/score, reply formatting), not by the
// bytes moved. BM_Ratio interleaves both and reports ours/null directly (goal: <= 1.5).
// BM_RatioUnderWatch is the same on a second server whose state also holds 20,000 SGX pods from
// the API watch while a feeder thread pushes 1,000 pod watch events per second through the real
// PodWatchTarget (one in ten an SGX pod that moves node, so the writer keeps publishing).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "extender/http/connection_context.h"
#include "extender/http/handlers/filter.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/http/handlers/prioritize.h"
#include "extender/http/server.h"
#include "extender/kube/watch_targets.h"
#include "extender/state/clock.h"
#include "extender/state/cluster_state.h"
#include "tests/bench/extender/http/bench_cluster.h"
#include "tests/bench/extender/kube/pod_event_lines.h"
#include "tools/http_client/http_client.h"

namespace epc::http {
namespace {

using bench::kNodes;

void die(const std::string& what) {
  std::fprintf(stderr, "http_bench: %s\n", what.c_str());
  std::exit(1);
}

struct Fixture;
Fixture& fixture();

// Everything the benchmarks share, built once.
struct Fixture {
  explicit Fixture(bool under_watch = false)
      : state(bench::make_cluster()), metrics(metrics::Metrics::create()) {
    if (state == nullptr) {
      die("the cluster state lost reports");
    }
    if (under_watch) {
      start_watch();
    }
    config.http_address = "127.0.0.1";
    config.http_port = 0;
    config.http_threads = 1;
    auto created = HttpServer::create(config, *state, *metrics);
    if (!created.ok()) {
      die(created.error().message);
    }
    server = std::move(created).value();
    body = bench::request_body();

    // Null twins answer with our routes' reply bytes, captured by the first requests below.
    add_null_route("/null/filter");
    add_null_route("/null/prioritize");
    server->start();
    client = std::make_unique<tools::http_client::HttpClient>(server->port());
    filter_reply = post("/sgx/filter").body;
    prioritize_reply = post("/sgx/prioritize").body;
    if (under_watch && (filter_reply != fixture().filter_reply ||
                        prioritize_reply != fixture().prioritize_reply)) {
      die("the watch's pods changed the replies: the two fixtures would not be comparable");
    }
    if (filter_reply.find(R"("Error":"")") == std::string::npos ||
        prioritize_reply.size() < static_cast<std::size_t>(kNodes) * 20) {
      die("unexpected replies: " + filter_reply.substr(0, 200));
    }
  }

  ~Fixture() {
    stop_feeder.store(true);
    if (feeder.joinable()) {
      feeder.join();
    }
  }

  // 20,000 bound SGX pods through the watch path, then a steady 1,000 events/s.
  void start_watch() {
    watch = std::make_unique<kube::PodWatchTarget>(*state, core::PodRequestOptions{});
    const std::size_t reported = state->snapshot()->pods().size();  // the reports' slot holders
    // The watch's pods hold a slot and no EPC, so every node fits the request exactly as in the
    // plain fixture: both servers produce the same replies and only the watch's load differs.
    auto zero_epc = [](std::vector<std::string> lines) {
      for (auto& line : lines) {
        kube::bench::replace_all(line, R"("sgx.intel.com/epc":"16Mi")",
                                 R"("sgx.intel.com/epc":"0")");
      }
      return lines;
    };
    for (const auto& line : zero_epc(kube::bench::pod_event_lines(20000, 1, kNodes))) {
      (void)watch->event(line);
    }
    state->flush();
    if (state->snapshot()->pods().size() != reported + 20000) {
      die("the watch lost pods");
    }
    // Two copies of the churn lines whose SGX pods sit on neighbouring nodes: alternating them
    // moves one pod in ten between nodes on every event.
    churn[0] = zero_epc(kube::bench::pod_event_lines(1000, 10, kNodes, 100000));
    churn[1] = zero_epc(kube::bench::pod_event_lines(1000, 10, kNodes, 200000, /*node_offset=*/1));
    feeder = std::thread([this] {
      for (int pass = 0; !stop_feeder.load(); ++pass) {
        const auto& lines = churn[pass % 2];
        for (std::size_t i = 0; i < lines.size() && !stop_feeder.load(); ++i) {
          (void)watch->event(lines[i]);
          if (i % 10 == 9) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        }
      }
    });
  }

  void add_null_route(std::string path) {
    Route route;
    route.method = HttpMethod::kPost;
    route.path = path;
    // Points at the Fixture's reply, filled in after start() (routes must be added before).
    const std::string* reply = path == "/null/filter" ? &filter_reply : &prioritize_reply;
    route.handler = [reply](const RouteRequest&, RouteReply& out) { out.body.assign(*reply); };
    server->routes().add(std::move(route));
  }

  tools::http_client::HttpResponse post(const char* target) {
    auto response = client->post(target, body);
    if (!response.ok() || response->status != 200) {
      die(std::string("POST ") + target + " failed");
    }
    return std::move(response).value();
  }

  config::ExtenderConfig config;
  std::unique_ptr<state::ClusterState> state;
  std::unique_ptr<metrics::Metrics> metrics;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<tools::http_client::HttpClient> client;
  std::string body;
  std::string filter_reply;
  std::string prioritize_reply;
  std::unique_ptr<kube::PodWatchTarget> watch;
  std::vector<std::string> churn[2];
  std::atomic<bool> stop_feeder{false};
  std::thread feeder;
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

Fixture& fixture_under_watch() {
  static Fixture instance(/*under_watch=*/true);
  return instance;
}

void BM_Post(benchmark::State& bench, const char* target) {
  Fixture& f = fixture();
  for (auto _ : bench) {
    auto response = f.client->post(target, f.body);
    benchmark::DoNotOptimize(response);
  }
  bench.SetBytesProcessed(static_cast<std::int64_t>(bench.iterations()) *
                          static_cast<std::int64_t>(f.body.size()));
}

// One iteration = filter + prioritize to our routes, then the same two to the null twins; the
// per-request wall time of each side and the ratio are reported as counters.
void BM_Ratio(benchmark::State& bench, bool under_watch) {
  using Clock = std::chrono::steady_clock;
  Fixture& f = under_watch ? fixture_under_watch() : fixture();
  Clock::duration ours{};
  Clock::duration null{};
  for (auto _ : bench) {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(f.client->post("/sgx/filter", f.body));
    benchmark::DoNotOptimize(f.client->post("/sgx/prioritize", f.body));
    const auto t1 = Clock::now();
    benchmark::DoNotOptimize(f.client->post("/null/filter", f.body));
    benchmark::DoNotOptimize(f.client->post("/null/prioritize", f.body));
    const auto t2 = Clock::now();
    ours += t1 - t0;
    null += t2 - t1;
  }
  const double requests = 2.0 * static_cast<double>(bench.iterations());
  const double ours_us = std::chrono::duration<double, std::micro>(ours).count() / requests;
  const double null_us = std::chrono::duration<double, std::micro>(null).count() / requests;
  bench.counters["ours_us_per_req"] = ours_us;
  bench.counters["null_us_per_req"] = null_us;
  bench.counters["ratio_ours_null"] = null_us > 0 ? ours_us / null_us : 0;
}

// The handler alone, in process (no sockets): where the server-side time of our routes goes.
enum class Stage { kDecode, kDecodeFilter, kDecodePrioritize };

void BM_Handler(benchmark::State& bench, Stage stage) {
  Fixture& f = fixture();
  ConnectionContext context(f.config.http_body_limit_bytes);
  context.request_body.assign(f.body);
  const handlers::HandlerSettings settings = handlers::settings_from_config(f.config);
  const state::ClusterSnapshotPtr snapshot = f.state->snapshot();
  for (auto _ : bench) {
    auto args = context.decoder.decode(context.request_body, settings.pod_request);
    if (!args.ok()) {
      die(args.error().message);
    }
    if (stage == Stage::kDecodeFilter) {
      handlers::filter(*args, *snapshot, settings, state::monotonic_now_ns(), context.scratch,
                       context.reply_body);
    } else if (stage == Stage::kDecodePrioritize) {
      handlers::prioritize(*args, *snapshot, settings, state::monotonic_now_ns(), context.scratch,
                           context.reply_body);
    }
    benchmark::DoNotOptimize(context.reply_body.data());
  }
}

BENCHMARK_CAPTURE(BM_Handler, Decode, Stage::kDecode)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Handler, DecodeFilter, Stage::kDecodeFilter)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Handler, DecodePrioritize, Stage::kDecodePrioritize)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Post, Filter_Ours, "/sgx/filter")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Post, Filter_Null, "/null/filter")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Post, Prioritize_Ours, "/sgx/prioritize")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Post, Prioritize_Null, "/null/prioritize")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Ratio, Plain, false)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Ratio, UnderWatch, true)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace epc::http

BENCHMARK_MAIN();
