// wire_bench: our HTTP server against the I/O floor, on the wire, as kube-scheduler drives it.
//
// For 100, 1,000 and 5,000 nodes: an in-process HttpServer (one I/O thread, as the extender's
// default) over a ClusterState of that many reported nodes (bench_cluster.h), and a FloorServer
// (floor_server.h) answering the exact reply bytes our server produced for the same cycle. Both
// are driven by the same client, tools/load's SchedulerClient + SchedulingCycle: per pod a
// cache-mode filter over every name, then prioritize over the names the filter kept, on one
// keep-alive connection per server. Every cycle schedules a new pod (as a scheduling queue does),
// so our server also pays for noting each pod's demand with the state writer. The two servers'
// cycles are interleaved in one run (alternating which goes first each round), and the table gives
// p50 and p99 of each and ours ÷ floor for both. Team targets: <= 1.3x at 5,000 names and
// <= 1.5x at 1,000.
//
//   wire_bench [--rounds N] [--warmup N] [--same-pod] [--prioritize-all]
//     rounds/warm-up: cycles per server and size (defaults 1000 and 50); --same-pod sends pod 0
//     every time (our server then notes its demand once: the writer's share shows by difference);
//     --prioritize-all (diagnostic, not kube-scheduler's shape) sends prioritize every name sent
//     to filter instead of the kept ones, as http_bench does
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_format.h"
#include "common/value_parsers.h"
#include "extender/config/extender_config.h"
#include "extender/http/server.h"
#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"
#include "tests/bench/extender/http/bench_cluster.h"
#include "tests/bench/extender/http/floor_server.h"
#include "tools/load/percentiles.h"
#include "tools/load/scheduler_client.h"
#include "tools/load/scheduler_request.h"
#include "tools/load/scheduling_cycle.h"

namespace epc::http {
namespace {

namespace load = tools::load;

constexpr std::int64_t kPodEpcBytes = 64 * bench::kMi;
constexpr std::string_view kPrefix = "/sgx";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "wire_bench: %s\n", what.c_str());
  std::exit(1);
}

// One server as the client sees it: a keep-alive connection, a cycle runner, the samples.
struct Side {
  explicit Side(std::uint16_t port)
      : client("127.0.0.1", port), cycle(client, std::string(kPrefix), /*prioritize=*/true) {}

  load::SchedulerClient client;
  load::SchedulingCycle cycle;
  std::vector<std::int64_t> latencies_ns;
  load::CycleRecord last;
};

// One cluster size: our server over its state, the floor answering our bytes.
struct SizeFixture {
  SizeFixture(int node_count, bool prioritize_all)
      : nodes(node_count),
        state(bench::make_cluster(node_count)),
        metrics(metrics::Metrics::create()) {
    if (state == nullptr) {
      die("the cluster state lost reports");
    }
    config.http_address = "127.0.0.1";
    config.http_port = 0;
    config.http_threads = 1;
    auto created = HttpServer::create(config, *state, *metrics);
    if (!created.ok()) {
      die(created.error().message);
    }
    server = std::move(created).value();
    server->start();

    std::vector<std::string> names;
    for (int i = 0; i < nodes; ++i) {
      names.push_back(bench::node_name(i));
    }
    names_json = load::node_names_json(names);

    ours = std::make_unique<Side>(server->port());
    ours->cycle.set_prioritize_all_names(prioritize_all);
    // Our replies for one pod become the floor's constant replies. Another pod's differ only in
    // which of the nodes tied for the best score keeps 10 (the others get 9): the same length.
    ours->cycle.set_capture(true);
    auto captured = run(*ours, 0);
    ours->cycle.set_capture(false);
    if (!captured.prioritized) {
      die("the filter kept at most one node at " + std::to_string(nodes) + " names");
    }
    filter_reply_bytes = ours->cycle.last_filter_reply().size();
    prioritize_reply_bytes = ours->cycle.last_prioritize_reply().size();
    request_bytes = captured.wire.bytes_sent;
    nodes_kept = captured.nodes_kept;

    auto floor_created = bench::FloorServer::create();
    if (!floor_created.ok()) {
      die(floor_created.error().message);
    }
    floor_server = std::move(floor_created).value();
    floor_server->add_reply(std::string(kPrefix) + "/filter", "application/json",
                            ours->cycle.last_filter_reply());
    floor_server->add_reply(std::string(kPrefix) + "/prioritize", "application/json",
                            ours->cycle.last_prioritize_reply());
    floor_server->start();
    floor = std::make_unique<Side>(floor_server->port());
    floor->cycle.set_prioritize_all_names(prioritize_all);
    const load::CycleRecord floor_record = run(*floor, 0);
    if (floor_record.nodes_kept != nodes_kept || floor_record.wire.bytes_sent != request_bytes ||
        floor_record.wire.bytes_received != captured.wire.bytes_received) {
      die("the floor's cycle differs from ours on the wire at " + std::to_string(nodes) + " names");
    }
  }

  ~SizeFixture() {
    ours.reset();
    floor.reset();
    floor_server->stop();
    server->stop();
  }

  load::CycleRecord run(Side& side, std::uint64_t pod_index) {
    const std::string pod = load::pod_json(load::load_pod(pod_index, kPodEpcBytes, "wire"));
    auto record = side.cycle.run(pod, names_json, static_cast<std::size_t>(nodes));
    if (!record.ok()) {
      die(std::to_string(nodes) + " names: " + record.error().message);
    }
    side.last = *record;
    return *record;
  }

  const int nodes;
  config::ExtenderConfig config;
  std::unique_ptr<state::ClusterState> state;
  std::unique_ptr<metrics::Metrics> metrics;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<bench::FloorServer> floor_server;
  std::string names_json;
  std::unique_ptr<Side> ours;
  std::unique_ptr<Side> floor;
  std::size_t filter_reply_bytes = 0;
  std::size_t prioritize_reply_bytes = 0;
  std::uint64_t request_bytes = 0;
  std::size_t nodes_kept = 0;
};

struct Flags {
  std::int64_t rounds = 1000;
  std::int64_t warmup = 50;
  // Every cycle sends pod 0 again: our server then skips noting the demand (its per-connection
  // ObservationMemo), which shows what the state writer's wake-up per new pod costs.
  bool same_pod = false;
  // Diagnostic: prioritize gets every name sent to filter, not the kept ones (http_bench's shape).
  bool prioritize_all = false;
};

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: wire_bench [--rounds N] [--warmup N] [--same-pod] [--prioritize-all]\n");
      std::exit(0);
    }
    if (flag == "--same-pod") {
      flags.same_pod = true;
      continue;
    }
    if (flag == "--prioritize-all") {
      flags.prioritize_all = true;
      continue;
    }
    if (i + 1 >= argc) {
      die("flag " + std::string(flag) + " needs a value");
    }
    auto value = common::parse_int_in(argv[++i], 1, 10'000'000);
    if (!value.ok()) {
      die("flag " + std::string(flag) + ": " + value.error().message);
    }
    if (flag == "--rounds") {
      flags.rounds = *value;
    } else if (flag == "--warmup") {
      flags.warmup = *value;
    } else {
      die("unknown flag " + std::string(flag));
    }
  }
  return flags;
}

double target_for(int nodes) {
  if (nodes >= 5000) {
    return 1.3;
  }
  if (nodes >= 1000) {
    return 1.5;
  }
  return 0;
}

int run_main(int argc, char** argv) {
  const Flags flags = parse_flags(argc, argv);
  std::vector<std::unique_ptr<SizeFixture>> sizes;
  for (const int nodes : {100, 1000, 5000}) {
    sizes.push_back(std::make_unique<SizeFixture>(nodes, flags.prioritize_all));
  }
  // Pod 0 was the capture; every later cycle schedules a new pod on both servers.
  std::uint64_t pod = 1;
  for (std::int64_t round = -flags.warmup; round < flags.rounds; ++round, ++pod) {
    for (auto& size : sizes) {
      Side* first = round % 2 == 0 ? size->ours.get() : size->floor.get();
      Side* second = first == size->ours.get() ? size->floor.get() : size->ours.get();
      for (Side* side : {first, second}) {
        const load::CycleRecord record = size->run(*side, flags.same_pod ? 0 : pod);
        if (round >= 0) {
          side->latencies_ns.push_back(record.latency_ns);
        }
      }
    }
  }

  std::printf(
      "wire_bench: filter+prioritize cycles (cache mode, %s %s pod each) through tools/load's\n"
      "SchedulerClient; ours = HttpServer (1 I/O thread) over bench_cluster's N nodes, floor =\n"
      "FloorServer answering the same bytes; %lld rounds interleaved (+%lld warm-up), wall "
      "time\n\n",
      flags.same_pod ? "the same" : "a new", common::quantity_string(kPodEpcBytes).c_str(),
      static_cast<long long>(flags.rounds), static_cast<long long>(flags.warmup));
  std::printf("| %5s | %5s | %9s | %10s | %8s | %9s | %7s | %8s | %9s | %7s | %-14s |\n", "names",
              "kept", "sent KB", "recv KB", "ours p50", "floor p50", "p50 x", "ours p99",
              "floor p99", "p99 x", "target (p50)");
  std::printf(
      "|------:|------:|----------:|-----------:|---------:|----------:|--------:|---------:|"
      "----------:|--------:|----------------|\n");
  for (auto& size : sizes) {
    const load::LatencySummary ours = load::summarize_latencies(size->ours->latencies_ns);
    const load::LatencySummary floor = load::summarize_latencies(size->floor->latencies_ns);
    const double p50_ratio = floor.p50_ms > 0 ? ours.p50_ms / floor.p50_ms : 0;
    const double p99_ratio = floor.p99_ms > 0 ? ours.p99_ms / floor.p99_ms : 0;
    const double target = target_for(size->nodes);
    char verdict[32] = "-";
    if (target > 0) {
      std::snprintf(verdict, sizeof verdict, "<= %.1fx: %s", target,
                    p50_ratio <= target ? "met" : "NOT met");
    }
    std::printf(
        "| %5d | %5zu | %9.1f | %10.1f | %5.3f ms | %6.3f ms | %6.2fx | %5.3f ms | %6.3f ms | "
        "%6.2fx | %-14s |\n",
        size->nodes, size->nodes_kept, static_cast<double>(size->ours->last.wire.bytes_sent) / 1e3,
        static_cast<double>(size->ours->last.wire.bytes_received) / 1e3, ours.p50_ms, floor.p50_ms,
        p50_ratio, ours.p99_ms, floor.p99_ms, p99_ratio, verdict);
  }
  std::printf("\nsent/recv: bytes of one cycle (2 round trips), headers included.\n");
  return 0;
}

}  // namespace
}  // namespace epc::http

int main(int argc, char** argv) { return epc::http::run_main(argc, argv); }
