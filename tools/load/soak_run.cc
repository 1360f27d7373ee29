#include "tools/load/soak_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "tools/http_client/http_client.h"
#include "tools/load/loopback_extender.h"
#include "tools/load/memory_watch.h"
#include "tools/load/paced_cycles.h"
#include "tools/load/percentiles.h"
#include "tools/load/report_feeder.h"
#include "tools/load/scheduler_client.h"
#include "tools/load/scheduler_request.h"
#include "tools/load/scheduling_cycle.h"
#include "tools/standins/api_server_standin.h"
#include "tools/standins/temp_dir.h"

namespace epc::tools::load {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace standins = tools::standins;

constexpr std::int64_t kMiB = std::int64_t{1} << 20;
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kSettleTimeout = std::chrono::seconds(30);
constexpr std::int64_t kChurnSizesMiB[] = {16, 32, 64, 128};
// kube-scheduler sends an extender only the feasible nodes it found, at most its
// percentageOfNodesToScore share: for 5000 nodes the adaptive default is 10 %.
constexpr int kChurnWindows = 10;
constexpr auto kFeedLongEnough = std::chrono::hours(24);  // a feed ends by its stop flag

// Each node's bound EPC as the API server sees it, kept by the stand-in's binding observer (so
// it is the truth at the moment of every Binding) and by the churn's deletes.
struct Ledger {
  std::mutex mutex;
  std::unordered_map<std::string, std::int64_t> capacity;
  std::unordered_map<std::string, std::int64_t> reported;  // the plugins' holders, from /state
  std::unordered_map<std::string, std::int64_t> bound;
  std::unordered_map<std::string, std::int64_t> pod_bytes;  // churn pod name -> its EPC
  std::uint64_t overcommits = 0;
  std::string first_overcommit;
};

// One stream of the fleet and its feed thread; replaced whole on a restart.
struct FleetPart {
  int first_node = 0;
  int nodes = 0;
  std::unique_ptr<ReportFeeder> feeder;
  std::atomic<bool> stop{false};
  std::optional<common::Result<FeedStats>> fed;
  std::thread thread;
};

struct FleetTotals {
  FeedStats sent;  // summed over every feeder that ran (registrations and feeds)
  std::uint64_t restarts = 0;
  std::vector<double> restart_ms;  // close to re-registered, per restart
  std::string first_error;
};

common::Result<bool> start_part(FleetPart& part, const LoadOptions& options,
                                const std::string& target, FleetTotals& totals) {
  FeederOptions feeder_options = feeder_options_for(options, target);
  feeder_options.first_node = part.first_node;
  feeder_options.nodes = part.nodes;
  auto created = ReportFeeder::create(std::move(feeder_options));
  if (!created.ok()) {
    return created.error();
  }
  part.feeder = std::move(created).value();
  auto registered = part.feeder->register_nodes();
  if (!registered.ok()) {
    return common::Error{"registering nodes " + std::to_string(part.first_node) +
                         "..: " + registered.error().message};
  }
  totals.sent += *registered;
  part.stop.store(false);
  part.fed.reset();
  FeedPlan plan;
  plan.rate_per_s = part.nodes / 10.0;  // the plugin's 10 s heartbeat
  plan.duration = kFeedLongEnough;
  part.thread =
      std::thread([&part, plan] { part.fed.emplace(part.feeder->feed(plan, &part.stop)); });
  return true;
}

void stop_part(FleetPart& part, FleetTotals& totals) {
  part.stop.store(true);
  if (part.thread.joinable()) {
    part.thread.join();
  }
  if (part.fed) {
    if (part.fed->ok()) {
      totals.sent += part.fed->value();
    } else if (totals.first_error.empty()) {
      totals.first_error = part.fed->error().message;
    }
  }
  if (part.feeder) {
    if (auto closed = part.feeder->close(); !closed.ok() && totals.first_error.empty()) {
      totals.first_error = "closing a stream: " + closed.error().message;
    }
    part.feeder.reset();
  }
}

// The extender's epcRequestedBytes per node, from GET /state.
common::Result<std::unordered_map<std::string, std::int64_t>> requested_by_node(
    std::uint16_t port) {
  tools::http_client::HttpClient http(port);
  auto reply = http.get("/state");
  if (!reply.ok()) {
    return common::Error{"GET /state: " + reply.error().message};
  }
  if (reply->status != 200) {
    return common::Error{"GET /state: HTTP " + std::to_string(reply->status)};
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(reply->body.data(), reply->body.size()).get(doc) != simdjson::SUCCESS) {
    return common::Error{"GET /state: not JSON"};
  }
  std::unordered_map<std::string, std::int64_t> out;
  simdjson::dom::array nodes;
  if (doc["nodes"].get_array().get(nodes) != simdjson::SUCCESS) {
    return common::Error{"GET /state: no nodes array"};
  }
  for (simdjson::dom::element node : nodes) {
    std::string_view name;
    std::int64_t bytes = 0;
    if (node["node"].get_string().get(name) == simdjson::SUCCESS &&
        node["epcRequestedBytes"].get_int64().get(bytes) == simdjson::SUCCESS) {
      out.emplace(std::string(name), bytes);
    }
  }
  return out;
}

// The host kube-scheduler would pick: the best prioritize score, else the first name kept.
std::string pick_host(const SchedulingCycle& cycle, bool prioritized,
                      simdjson::dom::parser& parser) {
  simdjson::dom::element doc;
  if (prioritized) {
    if (parser.parse(cycle.last_prioritize_reply()).get(doc) != simdjson::SUCCESS) {
      return "";
    }
    std::string best;
    std::int64_t best_score = -1;
    simdjson::dom::array hosts;
    if (doc.get_array().get(hosts) != simdjson::SUCCESS) {
      return "";
    }
    for (simdjson::dom::element entry : hosts) {
      std::string_view host;
      std::int64_t score = 0;
      if (entry["Host"].get_string().get(host) == simdjson::SUCCESS &&
          entry["Score"].get_int64().get(score) == simdjson::SUCCESS && score > best_score) {
        best = std::string(host);
        best_score = score;
      }
    }
    return best;
  }
  if (parser.parse(cycle.last_filter_reply()).get(doc) != simdjson::SUCCESS) {
    return "";
  }
  simdjson::dom::array names;
  if (doc["NodeNames"].get_array().get(names) != simdjson::SUCCESS || names.size() == 0) {
    return "";
  }
  std::string_view first;
  return names.at(0).get_string().get(first) == simdjson::SUCCESS ? std::string(first) : "";
}

struct ChurnStats {
  std::uint64_t created = 0;
  std::uint64_t bound = 0;
  std::uint64_t unschedulable = 0;  // the filter kept no node
  std::uint64_t bind_refused = 0;   // the extender's bind answered an Error
  std::uint64_t cycle_errors = 0;   // filter/prioritize failed
  std::uint64_t deleted = 0;
  std::string first_error;
};

struct LivePod {
  Clock::time_point expires;
  std::string name;
  std::string node;
};

// Pods through filter, prioritize and bind at options.pod_rate until `stop`; each deleted
// pod_lifetime_ms after its bind.
ChurnStats run_churn(const LoadOptions& options, standins::ApiServerStandin& api, Ledger& ledger,
                     std::uint16_t port, const std::vector<std::string>& names,
                     const std::atomic<bool>& stop) {
  ChurnStats stats;
  std::vector<std::string> windows(kChurnWindows);
  std::vector<std::size_t> window_sizes(kChurnWindows);
  for (int w = 0; w < kChurnWindows; ++w) {
    std::vector<std::string> part;
    for (std::size_t i = static_cast<std::size_t>(w); i < names.size(); i += kChurnWindows) {
      part.push_back(names[i]);
    }
    windows[static_cast<std::size_t>(w)] = node_names_json(part);
    window_sizes[static_cast<std::size_t>(w)] = part.size();
  }
  SchedulerClient client("127.0.0.1", port);
  SchedulingCycle cycle(client, options.url_prefix, true);
  cycle.set_capture(true);
  simdjson::dom::parser parser;  // its buffers kept across pods
  std::deque<LivePod> live;
  const auto remove = [&](const std::string& name, const std::string& node) {
    if (api.delete_pod("default", name).ok()) {
      ++stats.deleted;
    }
    std::lock_guard lock(ledger.mutex);
    if (!node.empty()) {
      ledger.bound[node] -= ledger.pod_bytes[name];
    }
    ledger.pod_bytes.erase(name);
  };
  const auto note_error = [&](const std::string& what) {
    if (stats.first_error.empty()) {
      stats.first_error = what;
    }
  };
  const auto start = Clock::now();
  const auto lifetime = milliseconds(options.pod_lifetime_ms);
  for (std::uint64_t n = 0; !stop.load(); ++n) {
    const auto due =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(static_cast<double>(n) / options.pod_rate));
    while (Clock::now() < due && !stop.load()) {
      std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), milliseconds(50)));
    }
    while (!live.empty() && live.front().expires <= Clock::now()) {
      remove(live.front().name, live.front().node);
      live.pop_front();
    }
    if (stop.load()) {
      break;
    }
    char name[32];
    std::snprintf(name, sizeof name, "soak-%08llu", static_cast<unsigned long long>(n));
    const std::int64_t mib = kChurnSizesMiB[n % std::size(kChurnSizesMiB)];
    standins::PodSpec spec;
    spec.name = name;
    spec.epc = std::to_string(mib) + "Mi";
    {
      std::lock_guard lock(ledger.mutex);
      ledger.pod_bytes[name] = mib * kMiB;  // before the Binding the observer sees
    }
    auto uid = api.create_pod(spec);
    if (!uid.ok()) {
      note_error("create pod: " + uid.error().message);
      std::lock_guard lock(ledger.mutex);
      ledger.pod_bytes.erase(name);
      continue;
    }
    ++stats.created;
    LoadPod pod;
    pod.name = name;
    pod.uid = *uid;
    pod.epc_bytes = mib * kMiB;
    const std::size_t w = n % kChurnWindows;
    auto ran = cycle.run(pod_json(pod), windows[w], window_sizes[w]);
    if (!ran.ok()) {
      ++stats.cycle_errors;
      note_error("filter/prioritize: " + ran.error().message);
      remove(name, "");
      continue;
    }
    const std::string host = ran->nodes_kept == 0 ? "" : pick_host(cycle, ran->prioritized, parser);
    if (host.empty()) {
      ++stats.unschedulable;
      remove(name, "");
      continue;
    }
    std::string bind = R"({"PodName":")";
    bind.append(name).append(R"(","PodNamespace":"default","PodUID":")");
    bind.append(*uid).append(R"(","Node":")").append(host).append(R"("})");
    auto bound = client.post(options.url_prefix + "/bind", bind);
    if (!bound.ok() || bound->status != 200) {
      ++stats.cycle_errors;
      note_error("bind: " +
                 (bound.ok() ? "HTTP " + std::to_string(bound->status) : bound.error().message));
      remove(name, "");
      continue;
    }
    if (bound->body.find(R"("Error":"")") == std::string_view::npos) {
      ++stats.bind_refused;
      note_error("bind refused: " + std::string(bound->body));
      remove(name, "");
      continue;
    }
    ++stats.bound;
    live.push_back({Clock::now() + lifetime, name, host});
  }
  // The pods still bound stay: the final check counts them.
  return stats;
}

std::string describe_churn(const ChurnStats& s, double seconds) {
  char line[512];
  std::snprintf(line, sizeof line,
                "churn: %llu pods created (%.1f/s), %llu bound, %llu deleted, %llu unschedulable, "
                "%llu binds refused, %llu cycle errors%s%s\n",
                static_cast<unsigned long long>(s.created),
                seconds > 0 ? static_cast<double>(s.created) / seconds : 0.0,
                static_cast<unsigned long long>(s.bound),
                static_cast<unsigned long long>(s.deleted),
                static_cast<unsigned long long>(s.unschedulable),
                static_cast<unsigned long long>(s.bind_refused),
                static_cast<unsigned long long>(s.cycle_errors),
                s.first_error.empty() ? "" : "; first: ", s.first_error.c_str());
  return line;
}

}  // namespace

common::Result<bool> run_soak(const LoadOptions& options, std::ostream& out, std::ostream& log) {
  standins::ApiServerStandin::Options api_options;
  api_options.history_size = 200'000;
  auto started_api = standins::ApiServerStandin::start(api_options);
  if (!started_api.ok()) {
    return common::Error{"API server stand-in: " + started_api.error().message};
  }
  std::unique_ptr<standins::ApiServerStandin> api = std::move(started_api).value();
  Ledger ledger;
  std::vector<std::string> names;
  for (int i = 0; i < options.nodes; ++i) {
    const std::string name = load_node_name(options.node_prefix, i);
    const auto capacity = static_cast<std::int64_t>(load_node_state(i).epc_capacity_bytes);
    standins::NodeSpec node;
    node.name = name;
    node.capacity = {{"sgx.intel.com/epc", std::to_string(capacity)},
                     {"sgx.intel.com/enclave", "110"},
                     {"sgx.intel.com/provision", "110"}};
    node.ready = "True";
    if (auto added = api->add_node(node); !added.ok()) {
      return common::Error{"adding node " + name + ": " + added.error().message};
    }
    ledger.capacity[name] = capacity;
    names.push_back(name);
  }
  api->set_binding_observer([&ledger](const standins::BindingRecord& binding) {
    std::lock_guard lock(ledger.mutex);
    const std::int64_t bytes = ledger.pod_bytes[binding.name];
    std::int64_t& bound = ledger.bound[binding.node_name];
    bound += bytes;
    const std::int64_t held = bound + ledger.reported[binding.node_name];
    if (held > ledger.capacity[binding.node_name]) {
      if (ledger.overcommits++ == 0) {
        ledger.first_overcommit = binding.node_name + " holds " + std::to_string(held / kMiB) +
                                  " MiB of " +
                                  std::to_string(ledger.capacity[binding.node_name] / kMiB);
      }
    }
  });
  standins::TempDir dir("epc-soak");
  LoadOptions extender_options = options;
  extender_options.kubeconfig = dir.file("kubeconfig");
  if (auto written =
          api->write_kubeconfig(extender_options.kubeconfig, standins::KubeconfigUser::kAdminToken);
      !written.ok()) {
    return written.error();
  }
  auto extender = LoopbackExtender::start(extender_options, log);
  if (!extender.ok()) {
    return extender.error();
  }
  ExtenderProcess& process = (*extender)->process();
  {
    tools::http_client::HttpClient http(process.http_port());
    const auto deadline = Clock::now() + kReadyTimeout;
    for (;;) {
      auto ready = http.get("/readyz");
      if (ready.ok() && ready->status == 200) {
        break;
      }
      if (Clock::now() > deadline) {
        return common::Error{"the extender was not ready within 60 s (lists of " +
                             std::to_string(options.nodes) + " nodes)"};
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  // The fleet: one stream per part, all registered before anything is measured.
  const std::string target = "127.0.0.1:" + std::to_string(process.grpc_port());
  FleetTotals fleet;
  const auto fleet_started = Clock::now();
  std::vector<std::unique_ptr<FleetPart>> parts;
  const int per_part = options.nodes_per_stream();
  for (int first = 0; first < options.nodes; first += per_part) {
    auto part = std::make_unique<FleetPart>();
    part->first_node = first;
    part->nodes = std::min(per_part, options.nodes - first);
    if (auto ok = start_part(*part, options, target, fleet); !ok.ok()) {
      for (auto& p : parts) {
        stop_part(*p, fleet);
      }
      return ok.error();
    }
    parts.push_back(std::move(part));
  }
  const auto stop_fleet = [&] {
    for (auto& p : parts) {
      stop_part(*p, fleet);
    }
  };
  out << "epc-load soak: " << options.nodes << " nodes on " << parts.size()
      << " report streams (registered: " << fleet.sent.snapshots << " snapshots, "
      << fleet.sent.refused << " refused)\n"
      << std::flush;
  auto baseline = requested_by_node(process.http_port());
  if (!baseline.ok()) {
    stop_fleet();
    return baseline.error();
  }
  {
    std::lock_guard lock(ledger.mutex);
    for (const auto& [node, bytes] : *baseline) {
      ledger.reported[node] = bytes;
    }
  }

  // The measuring cycles: a fixed spread of the nodes, the same in both runs.
  std::vector<std::string> measured;
  const std::size_t step =
      std::max<std::size_t>(1, names.size() / static_cast<std::size_t>(options.soak_names));
  for (std::size_t i = 0;
       i < names.size() && measured.size() < static_cast<std::size_t>(options.soak_names);
       i += step) {
    measured.push_back(names[i]);
  }
  const std::string measured_json = node_names_json(measured);
  PacedCyclesOptions paced = paced_cycles_options(options, "127.0.0.1", process.http_port());

  paced.duration = milliseconds(options.quiet_ms);
  paced.run_tag = options.run_tag + "q";
  log << "epc-load soak: quiet run, " << options.quiet_ms / 1000 << " s" << std::endl;
  auto quiet = run_paced_cycles(paced, measured_json, measured.size());
  if (!quiet.ok()) {
    stop_fleet();
    return quiet.error();
  }

  log << "epc-load soak: soak run, " << options.duration_ms / 1000 << " s" << std::endl;
  std::atomic<bool> stop{false};
  ChurnStats churn;
  const auto churn_started = Clock::now();
  std::thread churning(
      [&] { churn = run_churn(options, *api, ledger, process.http_port(), names, stop); });
  std::thread restarting([&] {
    std::size_t next = 0;
    auto due = Clock::now() + milliseconds(options.restart_every_ms);
    while (!stop.load()) {
      if (Clock::now() < due) {
        std::this_thread::sleep_for(milliseconds(50));
        continue;
      }
      FleetPart& part = *parts[next % parts.size()];
      const auto began = Clock::now();
      stop_part(part, fleet);
      if (auto ok = start_part(part, options, target, fleet); !ok.ok()) {
        if (fleet.first_error.empty()) {
          fleet.first_error = "restart: " + ok.error().message;
        }
        return;
      }
      ++fleet.restarts;
      fleet.restart_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - began).count());
      log << "epc-load soak: restarted the stream of nodes " << part.first_node << ".."
          << part.first_node + part.nodes - 1 << std::endl;
      ++next;
      due += milliseconds(options.restart_every_ms);
    }
  });
  MemoryWatch watch(process.pid(), milliseconds(options.rss_every_ms), log);
  auto watching = watch.start();
  paced.duration = milliseconds(options.duration_ms);
  paced.run_tag = options.run_tag + "s";
  common::Result<PacedCyclesResult> soaked = common::Error{"not run"};
  if (watching.ok()) {
    soaked = run_paced_cycles(paced, measured_json, measured.size());
  }
  stop.store(true);
  churning.join();
  restarting.join();
  const MemoryWatchResult memory = watch.stop();
  const double churn_seconds = std::chrono::duration<double>(Clock::now() - churn_started).count();

  // Nothing lost: once the churn stopped, the extender's EPC per node is what the API has bound
  // there plus what its plugin reported, on every node.
  std::size_t mismatched = 0;
  std::string first_mismatch;
  const auto settle_deadline = Clock::now() + kSettleTimeout;
  for (;;) {
    auto now_requested = requested_by_node(process.http_port());
    mismatched = 0;
    first_mismatch.clear();
    if (now_requested.ok()) {
      std::lock_guard lock(ledger.mutex);
      for (const std::string& node : names) {
        const std::int64_t want = ledger.reported[node] + ledger.bound[node];
        const auto it = now_requested->find(node);
        const std::int64_t have = it == now_requested->end() ? -1 : it->second;
        if (have != want) {
          if (mismatched++ == 0) {
            first_mismatch = node + ": extender " + std::to_string(have / kMiB) + " MiB, API " +
                             std::to_string(want / kMiB) + " MiB";
          }
        }
      }
    } else {
      mismatched = names.size();
      first_mismatch = now_requested.error().message;
    }
    if (mismatched == 0 || Clock::now() > settle_deadline) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  stop_fleet();
  // The streams ran side by side: their summed seconds are no duration, the wall clock is.
  fleet.sent.seconds = std::chrono::duration<double>(Clock::now() - fleet_started).count();
  if (!watching.ok()) {
    return watching.error();
  }
  if (!soaked.ok()) {
    return soaked.error();
  }

  std::vector<std::int64_t> quiet_filter = quiet->filter_ns;
  std::vector<std::int64_t> soak_filter = soaked->filter_ns;
  const LatencySummary q = summarize_latencies(quiet_filter);
  const LatencySummary s = summarize_latencies(soak_filter);
  char line[512];
  out << "quiet run (" << options.quiet_ms / 1000 << " s, heartbeats only):\n"
      << describe_paced_cycles(*quiet) << "soak run (" << options.duration_ms / 1000
      << " s, churn and stream restarts):\n"
      << describe_paced_cycles(*soaked) << describe_churn(churn, churn_seconds);
  double restart_max = 0;
  for (double ms : fleet.restart_ms) {
    restart_max = std::max(restart_max, ms);
  }
  std::snprintf(line, sizeof line,
                "stream restarts: %llu (each: close, new instance, %d "
                "snapshots re-registered; slowest %.0f ms)\n",
                static_cast<unsigned long long>(fleet.restarts), per_part, restart_max);
  out << line << describe_feed("reports", fleet.sent);
  if (!fleet.first_error.empty()) {
    out << "report streams: " << fleet.first_error << "\n";
  }
  std::snprintf(line, sizeof line,
                "filter p99: quiet %.3f ms, soak %.3f ms (%.2fx); p50 quiet %.3f ms, soak %.3f "
                "ms\n",
                q.p99_ms, s.p99_ms, q.p99_ms > 0 ? s.p99_ms / q.p99_ms : 0.0, q.p50_ms, s.p50_ms);
  out << line;
  {
    std::lock_guard lock(ledger.mutex);
    out << "overcommitted bindings: " << ledger.overcommits
        << (ledger.first_overcommit.empty() ? "" : " (first: " + ledger.first_overcommit + ")")
        << "\n";
  }
  out << "ledger vs API after the churn: " << mismatched << " of " << names.size()
      << " nodes differ" << (first_mismatch.empty() ? "" : " (first: " + first_mismatch + ")")
      << "\n"
      << memory.summary() << "\n"
      << std::flush;
  std::lock_guard lock(ledger.mutex);
  return quiet->errors().total() == 0 && soaked->errors().total() == 0 && fleet.sent.refused == 0 &&
         fleet.first_error.empty() && ledger.overcommits == 0 && mismatched == 0 &&
         churn.cycle_errors == 0;
}

}  // namespace epc::tools::load
