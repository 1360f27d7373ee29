// epc-load: a kube-scheduler-shaped load driver for epc-extender (see load_usage()).
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "tools/load/cycle_batch.h"
#include "tools/load/ingest_run.h"
#include "tools/load/load_options.h"
#include "tools/load/memory_watch.h"
#include "tools/load/paced_cycles.h"
#include "tools/load/report_feeder.h"
#include "tools/load/scheduler_client.h"
#include "tools/load/scheduler_request.h"
#include "tools/load/scheduling_cycle.h"
#include "tools/load/soak_http_run.h"
#include "tools/load/soak_run.h"

namespace {

namespace load = epc::tools::load;
using epc::common::Result;

std::string names_json_of(const load::LoadOptions& options) {
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(options.names));
  for (int i = 0; i < options.names; ++i) {
    names.push_back(load::load_node_name(options.node_prefix, i));
  }
  return load::node_names_json(names);
}

// Several connections, paced, errors counted (see load_usage()): false when any occurred.
Result<bool> run_paced(const load::LoadOptions& options, const std::string& host,
                       std::uint16_t port) {
  std::optional<load::MemoryWatch> watch;
  if (options.watch_pid > 0) {
    watch.emplace(options.watch_pid, std::chrono::milliseconds(options.rss_every_ms), std::cerr);
    if (auto started = watch->start(); !started.ok()) {
      return started.error();
    }
  }
  auto result =
      load::run_paced_cycles(load::paced_cycles_options(options, host, port),
                             names_json_of(options), static_cast<std::size_t>(options.names));
  std::optional<load::MemoryWatchResult> memory;
  if (watch) {
    memory = watch->stop();
  }
  if (!result.ok()) {
    return result.error();
  }
  std::cout << "epc-load cycles: http " << options.http << options.url_prefix << ", verbs "
            << (options.prioritize ? "filter,prioritize" : "filter") << ", names "
            << options.node_prefix << "00000.." << options.names - 1 << "\n"
            << load::describe_paced_cycles(*result);
  if (memory) {
    std::cout << memory->summary() << "\n";
  }
  std::cout << std::flush;
  return result->errors().total() == 0;
}

Result<bool> run_cycles(const load::LoadOptions& options) {
  auto address = load::parse_host_port(options.http);
  if (!address.ok()) {
    return epc::common::Error{"--http: " + address.error().message};
  }
  if (options.paced) {
    return run_paced(options, address->first, address->second);
  }
  load::SchedulerClient client(address->first, address->second);
  if (auto connected = client.connect(); !connected.ok()) {
    return connected.error();
  }
  load::SchedulingCycle cycle(client, options.url_prefix, options.prioritize);
  const std::string names_json = names_json_of(options);
  load::CycleBatchOptions batch_options;
  batch_options.pods = options.pods;
  batch_options.warmup_pods = options.warmup_pods;
  batch_options.pod_epc_bytes = options.pod_epc_bytes;
  batch_options.run_tag = options.run_tag;
  if (options.duration_ms > 0) {
    batch_options.duration = std::chrono::milliseconds(options.duration_ms);
  }
  auto batch = load::run_cycle_batch(cycle, names_json, static_cast<std::size_t>(options.names),
                                     batch_options);
  if (!batch.ok()) {
    return batch.error();
  }
  std::cout << "epc-load cycles: http " << options.http << options.url_prefix << ", verbs "
            << (options.prioritize ? "filter,prioritize" : "filter") << ", names "
            << options.node_prefix << "00000.." << options.names - 1 << "\n"
            << load::describe_batch(batch.value()) << std::flush;
  return true;
}

void print_feed(const char* what, const load::FeedStats& stats) {
  // Flushed: a script waits for the register line while the feed goes on.
  std::cout << load::describe_feed(what, stats) << std::flush;
}

Result<bool> run_feed(const load::LoadOptions& options) {
  auto feeder = load::ReportFeeder::create(load::feeder_options_for(options, options.grpc));
  if (!feeder.ok()) {
    return feeder.error();
  }
  auto registered = (*feeder)->register_nodes();
  if (!registered.ok()) {
    return registered.error();
  }
  print_feed("register", *registered);
  load::FeedPlan plan;
  plan.rate_per_s = options.rate_per_s;
  plan.duration = std::chrono::milliseconds(options.duration_ms);
  plan.change_every = options.changes_every;
  auto fed = (*feeder)->feed(plan);
  if (!fed.ok()) {
    return fed.error();
  }
  print_feed("feed", *fed);
  return (*feeder)->close();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto options = load::parse_load_options(args);
  if (!options.ok()) {
    std::cerr << "epc-load: " << options.error().message << "\n"
              << "Run `epc-load --help` for the commands." << std::endl;
    return 2;
  }
  if (options->help) {
    std::cout << load::load_usage();
    return 0;
  }
  Result<bool> done = epc::common::Error{"no command"};
  switch (options->command) {
    case load::LoadCommand::kCycles:
      done = run_cycles(*options);
      break;
    case load::LoadCommand::kFeed:
      done = run_feed(*options);
      break;
    case load::LoadCommand::kIngest:
      done = load::run_ingest(*options, std::cout, std::cerr);
      break;
    case load::LoadCommand::kSoakHttp:
      done = load::run_soak_http(*options, std::cout, std::cerr);
      break;
    case load::LoadCommand::kSoak:
      done = load::run_soak(*options, std::cout, std::cerr);
      break;
    case load::LoadCommand::kNone:
      break;
  }
  if (!done.ok()) {
    std::cerr << "epc-load: " << done.error().message << std::endl;
    return 1;
  }
  return *done ? 0 : 1;  // false: the run went through with errors (printed with its counts)
}
