// report_ingest_bench: NodeReports ingest, in process, beside its baseline twin.
//
// Ours: tools/load's ReportFeeder (one stream, N nodes, at most --window messages unacknowledged)
// over loopback gRPC into a real ReportsServer (the NodeReports callback service) and its
// ClusterState writer: registration (one snapshot per node), then heartbeats as fast as the Acks
// allow for --seconds. Twin: the same messages, built as the same protobuf, converted by the same
// reports::from_proto and queued with ClusterState::apply_async under the same window, with no
// gRPC in between: what the writer alone can take. The ratio twin / ours is what the stream costs.
// Process CPU (getrusage) is given beside wall time; for ours it includes the feeder, the client
// end of the stream, which an extender does not pay.
//
//   report_ingest_bench [--nodes N] [--seconds S] [--window W]   (defaults 5000, 3, 32)
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

#include "common/value_parsers.h"
#include "epc/v1/node_reports.pb.h"
#include "extender/config/extender_config.h"
#include "extender/reports/conversion.h"
#include "extender/reports/reports_server.h"
#include "extender/state/cluster_state.h"
#include "tools/load/report_feeder.h"
#include "tools/load/scheduler_request.h"

namespace epc::reports {
namespace {

using Clock = std::chrono::steady_clock;
namespace load = tools::load;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "report_ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Flags {
  int nodes = 5000;
  std::int64_t seconds = 3;
  std::size_t window = 32;
};

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: report_ingest_bench [--nodes N] [--seconds S] [--window W]\n");
      std::exit(0);
    }
    if (i + 1 >= argc) {
      die("flag " + std::string(flag) + " needs a value");
    }
    auto value = common::parse_int_in(argv[++i], 1, 100'000);
    if (!value.ok()) {
      die("flag " + std::string(flag) + ": " + value.error().message);
    }
    if (flag == "--nodes") {
      flags.nodes = static_cast<int>(*value);
    } else if (flag == "--seconds") {
      flags.seconds = *value;
    } else if (flag == "--window") {
      flags.window = static_cast<std::size_t>(*value);
    } else {
      die("unknown flag " + std::string(flag));
    }
  }
  return flags;
}

struct Measured {
  std::uint64_t messages = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  std::uint64_t refused = 0;
};

// ---- ours: the gRPC stream ----

struct StreamResult {
  Measured registration;
  Measured heartbeats;
};

StreamResult run_stream(const Flags& flags) {
  std::unique_ptr<state::ClusterState> state = state::ClusterState::create({});
  config::ExtenderConfig config;
  config.grpc_address = "127.0.0.1:0";
  config.grpc_stream_max_in_flight = flags.window;
  // The whole fleet on one stream, as fast as the Acks allow: over the per-stream bounds.
  config.grpc_stream_max_nodes = static_cast<std::size_t>(flags.nodes);
  config.grpc_stream_max_rate = 0;
  auto server = ReportsServer::create(config, *state);
  if (!server.ok()) {
    die(server.error().message);
  }
  load::FeederOptions options;
  options.target = "127.0.0.1:" + std::to_string((*server)->port());
  options.nodes = flags.nodes;
  options.window = flags.window;
  auto feeder = load::ReportFeeder::create(options);
  if (!feeder.ok()) {
    die(feeder.error().message);
  }
  StreamResult result;
  double cpu = process_cpu_seconds();
  auto registered = (*feeder)->register_nodes();
  if (!registered.ok()) {
    die(registered.error().message);
  }
  result.registration = {registered->sent(), registered->seconds, process_cpu_seconds() - cpu,
                         registered->refused};
  if (state->snapshot()->size() != static_cast<std::size_t>(flags.nodes)) {
    die("the stream registered " + std::to_string(state->snapshot()->size()) + " nodes");
  }
  load::FeedPlan plan;
  plan.rate_per_s = 0;
  plan.duration = std::chrono::seconds(flags.seconds);
  cpu = process_cpu_seconds();
  auto fed = (*feeder)->feed(plan);
  if (!fed.ok()) {
    die(fed.error().message);
  }
  result.heartbeats = {fed->sent(), fed->seconds, process_cpu_seconds() - cpu, fed->refused};
  if (auto closed = (*feeder)->close(); !closed.ok()) {
    die(closed.error().message);
  }
  (*server)->shutdown();
  return result;
}

// ---- twin: conversion + apply_async, no gRPC ----

class DirectFeeder {
 public:
  DirectFeeder(state::ClusterState& state, std::size_t window) : state_(state), window_(window) {}

  void submit(const epc::v1::NodeReport& report) {
    auto converted = from_proto(report);
    if (!converted.ok()) {
      die("twin: " + converted.error().message);
    }
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return in_flight_ < window_; });
      ++in_flight_;
    }
    state_.apply_async(std::move(converted).value(), [this](common::Result<std::uint64_t> done) {
      std::lock_guard lock(mutex_);
      --in_flight_;
      refused_ += done.ok() ? 0 : 1;
      cv_.notify_all();
    });
  }

  void drain() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }

  std::uint64_t refused() {
    std::lock_guard lock(mutex_);
    return refused_;
  }

 private:
  state::ClusterState& state_;
  const std::size_t window_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t in_flight_ = 0;  // guarded by mutex_
  std::uint64_t refused_ = 0;  // guarded by mutex_
};

StreamResult run_direct(const Flags& flags) {
  std::unique_ptr<state::ClusterState> state = state::ClusterState::create({});
  DirectFeeder feeder(*state, flags.window);
  const std::string instance = "load-twin";
  std::vector<std::string> names;
  for (int i = 0; i < flags.nodes; ++i) {
    names.push_back(load::load_node_name("load-node-", i));
  }
  std::uint64_t sequence = 1;
  epc::v1::NodeReport report;
  auto stamp = [&](int node) {
    report.set_node_name(names[static_cast<std::size_t>(node)]);
    report.set_instance_id(instance);
    report.set_sequence(sequence++);
    report.set_plugin_version("epc-load");
  };
  StreamResult result;
  double cpu = process_cpu_seconds();
  Clock::time_point start = Clock::now();
  for (int node = 0; node < flags.nodes; ++node) {
    stamp(node);
    load::load_node_snapshot(node, *report.mutable_snapshot());
    feeder.submit(report);
  }
  feeder.drain();
  result.registration = {static_cast<std::uint64_t>(flags.nodes),
                         std::chrono::duration<double>(Clock::now() - start).count(),
                         process_cpu_seconds() - cpu, feeder.refused()};
  cpu = process_cpu_seconds();
  start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::seconds(flags.seconds);
  std::uint64_t sent = 0;
  for (int node = 0; Clock::now() < deadline; node = (node + 1) % flags.nodes, ++sent) {
    stamp(node);
    report.mutable_heartbeat();
    feeder.submit(report);
  }
  feeder.drain();
  result.heartbeats = {sent, std::chrono::duration<double>(Clock::now() - start).count(),
                       process_cpu_seconds() - cpu, feeder.refused() - result.registration.refused};
  return result;
}

void print_row(const char* what, const Measured& m) {
  std::printf("| %-44s | %8llu | %6.2f | %9.0f | %6.2f | %11.0f | %7llu |\n", what,
              static_cast<unsigned long long>(m.messages), m.seconds,
              m.seconds > 0 ? static_cast<double>(m.messages) / m.seconds : 0.0, m.cpu_seconds,
              m.cpu_seconds > 0 ? static_cast<double>(m.messages) / m.cpu_seconds : 0.0,
              static_cast<unsigned long long>(m.refused));
}

int run_main(int argc, char** argv) {
  const Flags flags = parse_flags(argc, argv);
  const StreamResult ours = run_stream(flags);
  const StreamResult twin = run_direct(flags);
  std::printf(
      "report_ingest_bench: %d nodes, window %zu, heartbeats for %lld s as fast as the Acks allow\n"
      "(wall time; CPU = this whole process, both ends of the stream for the gRPC rows)\n\n",
      flags.nodes, flags.window, static_cast<long long>(flags.seconds));
  std::printf("| %-44s | %8s | %6s | %9s | %6s | %11s | %7s |\n", "path", "messages", "s", "msgs/s",
              "CPU s", "msgs/CPU-s", "refused");
  std::printf(
      "|----------------------------------------------|---------:|-------:|----------:|-------:|"
      "------------:|--------:|\n");
  print_row("gRPC stream: register (snapshots)", ours.registration);
  print_row("twin (from_proto + apply_async): register", twin.registration);
  print_row("gRPC stream: heartbeats", ours.heartbeats);
  print_row("twin (from_proto + apply_async): heartbeats", twin.heartbeats);
  const auto rate = [](const Measured& m) {
    return m.seconds > 0 ? static_cast<double>(m.messages) / m.seconds : 0.0;
  };
  std::printf("\nheartbeats/s twin / gRPC stream: %.2fx\n",
              rate(ours.heartbeats) > 0 ? rate(twin.heartbeats) / rate(ours.heartbeats) : 0.0);
  return 0;
}

}  // namespace
}  // namespace epc::reports

int main(int argc, char** argv) { return epc::reports::run_main(argc, argv); }
