#include "tools/load/soak_http_run.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "tools/load/loopback_extender.h"
#include "tools/load/memory_watch.h"
#include "tools/load/paced_cycles.h"
#include "tools/load/report_feeder.h"
#include "tools/load/scheduler_request.h"

namespace epc::tools::load {

namespace {

// The feed's plan outlasts the cycles by this much; the cycles' end stops it.
constexpr auto kFeedMargin = std::chrono::seconds(120);

}  // namespace

common::Result<bool> run_soak_http(const LoadOptions& options, std::ostream& out,
                                   std::ostream& log) {
  auto extender = LoopbackExtender::start(options, log);
  if (!extender.ok()) {
    return extender.error();
  }
  ExtenderProcess& process = (*extender)->process();

  auto created = ReportFeeder::create(
      feeder_options_for(options, "127.0.0.1:" + std::to_string(process.grpc_port())));
  if (!created.ok()) {
    return created.error();
  }
  // Declared after the extender: closed (its stream ended) before the extender stops.
  std::unique_ptr<ReportFeeder> feeder = std::move(created).value();
  auto registered = feeder->register_nodes();
  if (!registered.ok()) {
    return common::Error{"registering nodes: " + registered.error().message};
  }
  out << describe_feed("register", *registered) << std::flush;
  if (registered->refused > 0) {
    return common::Error{"the extender refused " + std::to_string(registered->refused) +
                         " snapshots, e.g.: " + registered->first_refusal};
  }
  const std::string names_json = node_names_json(feeder->node_names());

  std::atomic<bool> stop{false};
  std::optional<common::Result<FeedStats>> fed;
  FeedPlan plan;
  plan.rate_per_s = options.heartbeat_rate;
  plan.duration = std::chrono::milliseconds(options.duration_ms) + kFeedMargin;
  plan.change_every = options.changes_every;
  std::thread feeding([&] { fed.emplace(feeder->feed(plan, &stop)); });

  MemoryWatch watch(process.pid(), std::chrono::milliseconds(options.rss_every_ms), log);
  auto watching = watch.start();
  common::Result<PacedCyclesResult> cycles = common::Error{"not run"};
  if (watching.ok()) {
    cycles = run_paced_cycles(paced_cycles_options(options, "127.0.0.1", process.http_port()),
                              names_json, feeder->node_names().size());
  }
  const MemoryWatchResult memory = watch.stop();
  stop.store(true);
  feeding.join();
  if (auto closed = feeder->close(); !closed.ok()) {
    log << "epc-load: closing the report stream: " << closed.error().message << std::endl;
  }
  if (!watching.ok()) {
    return watching.error();
  }
  if (!cycles.ok()) {
    return cycles.error();
  }

  out << "epc-load soak-http: " << options.nodes << " nodes, filter"
      << (options.prioritize ? "+prioritize" : "") << " over every name, " << options.connections
      << " connections\n"
      << describe_paced_cycles(*cycles);
  bool clean = cycles->errors().total() == 0;
  if (fed && fed->ok()) {
    out << describe_feed("feed", fed->value());
    clean = clean && fed->value().refused == 0;
  } else {
    out << "feed: " << (fed ? fed->error().message : std::string("did not run")) << "\n";
    clean = false;
  }
  out << memory.summary() << "\n" << std::flush;
  return clean;
}

}  // namespace epc::tools::load
