// epc-demo: an SGX fleet (simulated, or real epc-device-plugin processes with --plugins) and a
// kube-scheduler stand-in, run against a live epc-extender.
//
// The fleet's nodes stream NodeReports over gRPC like epc-device-plugin; the player sends the
// extender the exact filter/prioritize requests kube-scheduler sends, places each pod on the best
// node, has that node report the pod and waits for the Ack. At the end it prints what went where,
// per-node EPC use, why the rejected pods were rejected, and lines from the extender's /metrics.
//
// --api is binding mode through the Kubernetes API path instead (tools/demo/api_demo.h): epc-demo
// starts a kube-apiserver stand-in and the extender itself, and binds pods through the bind verb.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "common/byte_format.h"
#include "tools/demo/api_demo.h"
#include "tools/demo/demo_workload.h"
#include "tools/demo/fleet.h"
#include "tools/demo/metrics_scrape.h"
#include "tools/demo/node_fleet.h"
#include "tools/demo/report.h"
#include "tools/demo/scheduler_player.h"
#include "tools/epcctl/capacity_command.h"
#include "tools/epcctl/epcctl_options.h"
#if defined(EPC_DEMO_HAVE_PLUGINS)
#include "tools/demo/plugin_fleet.h"
#endif

namespace epc::tools::demo {
namespace {

// SIGINT and SIGTERM, blocked in every thread from the start of main (threads inherit the mask)
// so that --linger can wait for them with sigwait and then stop the fleet in order.
const sigset_t& linger_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    return s;
  }();
  return set;
}

constexpr int kDefaultPods = 80;
constexpr int kShortPods = 16;
// kube-scheduler's default httpTimeout.
constexpr std::chrono::milliseconds kHttpTimeout{5000};

constexpr std::string_view kUsage = R"(usage: epc-demo [flags]

Simulates 12 SGX nodes (64Gi down to 93.5Mi of EPC, one without SGX) that stream NodeReports to a
running epc-extender over gRPC, then schedules a seeded mix of SGX pods through the extender's HTTP
filter/prioritize API exactly as kube-scheduler does, and prints placements, per-node EPC use,
rejections and lines from the extender's /metrics.

flags:
  --http HOST:PORT     the extender's HTTP address           (default 127.0.0.1:8888)
  --grpc HOST:PORT     the extender's NodeReports address     (default 127.0.0.1:9090)
  --url-prefix PATH    the extender's urlPrefix path          (default /sgx)
  --pods N             how many pods to schedule              (default 80; 16 with --short)
  --seed S             workload seed (same seed, same pods)   (default 42)
  --short              a quick run with fewer pods
  --plugins PATH       run a real epc-device-plugin (PATH) per node, each on a fake SGX root with a
                       kubelet stand-in that registers it, calls Allocate for the pods placed there
                       and serves PodResources (default: the fleet is simulated in-process)
  --api                binding mode through the Kubernetes API path, no cluster needed: starts a
                       kube-apiserver stand-in (HTTPS on 127.0.0.1) with 8 SGX nodes advertising
                       allocatable sgx.intel.com/epc and the pods pending, starts epc-extender
                       --kubeconfig itself, and binds every pod through the extender's bind verb
                       (--http, --grpc and --plugins do not apply)
  --extender PATH      the epc-extender that --api starts (default: the one in this build tree)
  --linger             after the summary, keep the fleet (and with --plugins, every plugin's
                       /metrics) running until SIGINT or SIGTERM, for Prometheus or a look by hand
  --help               this text

exit status: 0 when every pod was decided without extender errors, no node was overcommitted and
the extender's free EPC agrees with the fleet's (with --api: no node ever held more EPC than it
has and the extender's ledger agrees with the API); 1 otherwise; 2 for bad flags.
)";

struct Flags {
  std::string http_host = "127.0.0.1";
  std::uint16_t http_port = 8888;
  std::string grpc_target = "127.0.0.1:9090";
  std::string url_prefix = "/sgx";
  std::optional<int> pods;
  std::uint64_t seed = 42;
  bool short_run = false;
  std::string plugin_binary;  // empty: simulated fleet
  bool api = false;
  std::string extender_binary;  // --api; empty: next to this binary in the build tree
  bool address_given = false;   // --http or --grpc
  bool linger = false;
};

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  host = std::string(text.substr(0, colon));
  return parse_number(text.substr(colon + 1), port) && port != 0;
}

// Returns an exit code when the program should stop (help or bad flags).
std::optional<int> parse_flags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) {
        std::cerr << "epc-demo: " << arg << " needs a value\n";
        return std::nullopt;
      }
      return std::string_view(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--short") {
      flags.short_run = true;
      continue;
    }
    if (arg == "--api") {
      flags.api = true;
      continue;
    }
    if (arg == "--linger") {
      flags.linger = true;
      continue;
    }
    const auto v = value();
    if (!v) {
      return 2;
    }
    if (arg == "--http") {
      if (!split_host_port(*v, flags.http_host, flags.http_port)) {
        std::cerr << "epc-demo: --http wants HOST:PORT, got '" << *v << "'\n";
        return 2;
      }
      flags.address_given = true;
    } else if (arg == "--grpc") {
      std::string host;
      std::uint16_t port = 0;
      if (!split_host_port(*v, host, port)) {
        std::cerr << "epc-demo: --grpc wants HOST:PORT, got '" << *v << "'\n";
        return 2;
      }
      flags.grpc_target = std::string(*v);
      flags.address_given = true;
    } else if (arg == "--plugins") {
#if defined(EPC_DEMO_HAVE_PLUGINS)
      flags.plugin_binary = std::string(*v);
#else
      std::cerr << "epc-demo: this build has no --plugins mode (no epc-device-plugin target)\n";
      return 2;
#endif
    } else if (arg == "--extender") {
      flags.extender_binary = std::string(*v);
    } else if (arg == "--url-prefix") {
      flags.url_prefix = std::string(*v);
    } else if (arg == "--pods") {
      int pods = 0;
      if (!parse_number(*v, pods) || pods <= 0 || pods > 100000) {
        std::cerr << "epc-demo: --pods wants 1..100000, got '" << *v << "'\n";
        return 2;
      }
      flags.pods = pods;
    } else if (arg == "--seed") {
      std::uint64_t seed = 0;
      if (!parse_number(*v, seed)) {
        std::cerr << "epc-demo: --seed wants an unsigned integer, got '" << *v << "'\n";
        return 2;
      }
      flags.seed = seed;
    } else {
      std::cerr << "epc-demo: unknown flag " << arg << " (see --help)\n";
      return 2;
    }
  }
  if (flags.api && (flags.address_given || !flags.plugin_binary.empty())) {
    std::cerr << "epc-demo: --api starts its own extender and has no device plugins; --http, "
                 "--grpc and --plugins do not apply\n";
    return 2;
  }
  if (flags.api && flags.linger) {
    std::cerr << "epc-demo: --linger keeps a fleet running; --api has none\n";
    return 2;
  }
  if (!flags.api && !flags.extender_binary.empty()) {
    std::cerr << "epc-demo: --extender is for --api (otherwise the extender is already running)\n";
    return 2;
  }
  return std::nullopt;
}

// The build tree's epc-extender: this binary is <build>/tools/demo/epc-demo, the extender
// <build>/extender/epc-extender.
std::string default_extender_binary() {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    return "epc-extender";
  }
  std::string path(self, static_cast<std::size_t>(n));
  for (int up = 0; up < 3; ++up) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
      return "epc-extender";
    }
    path.erase(slash);
  }
  return path + "/extender/epc-extender";
}

int run_api(const Flags& flags) {
  ApiDemoOptions options;
  options.extender_binary =
      flags.extender_binary.empty() ? default_extender_binary() : flags.extender_binary;
  options.url_prefix = flags.url_prefix;
  while (options.url_prefix.size() > 1 && options.url_prefix.back() == '/') {
    options.url_prefix.pop_back();
  }
  options.pods = flags.pods.value_or(flags.short_run ? kShortPods : kDefaultPods);
  options.seed = flags.seed;
  return run_api_demo(options, std::cout, std::cerr);
}

int run(const Flags& flags) {
  const int pod_count = flags.pods.value_or(flags.short_run ? kShortPods : kDefaultPods);
  const std::string http_address = flags.http_host + ":" + std::to_string(flags.http_port);
  std::cout << "epc-demo: " << pod_count << " pods (seed " << flags.seed << ") through http://"
            << http_address << flags.url_prefix << ", fleet reporting to " << flags.grpc_target
            << '\n';

  // Connect now, so a wrong address fails at startup rather than at the first pod.
  http_client::HttpClient http(flags.http_port, flags.http_host);
  http.set_timeout(kHttpTimeout);
  if (auto connected = http.connect(); !connected) {
    std::cerr << "epc-demo: " << connected.error().message << '\n';
    return 1;
  }
  std::unique_ptr<NodeFleet> fleet;
#if defined(EPC_DEMO_HAVE_PLUGINS)
  PluginFleet* plugins = nullptr;
  if (!flags.plugin_binary.empty()) {
    PluginFleet::Options options;
    options.plugin_binary = flags.plugin_binary;
    options.grpc_target = flags.grpc_target;
    auto created = PluginFleet::create(default_fleet(), options, http);
    if (!created) {
      std::cerr << "epc-demo: " << created.error().message << '\n';
      return 1;
    }
    plugins = created->get();
    std::cout << "epc-demo: real device plugins: " << flags.plugin_binary << '\n';
    for (const auto& [node, pid] : plugins->plugin_pids()) {
      std::cout << "  epc-device-plugin pid " << pid << " for " << node << '\n';
    }
    fleet = std::move(created).value();
  }
#endif
  if (!fleet) {
    Fleet::Options fleet_options;
    fleet_options.grpc_target = flags.grpc_target;
    auto created = Fleet::create(default_fleet(), fleet_options);
    if (!created) {
      std::cerr << "epc-demo: " << created.error().message << '\n';
      return 1;
    }
    std::cout << "epc-demo: simulated device plugins (in-process NodeReports streams)\n";
    fleet = std::move(created).value();
  }
  print_fleet(std::cout, fleet->views());

  SchedulerPlayer player(http, *fleet, {flags.url_prefix, flags.seed});
  const auto started = std::chrono::steady_clock::now();
  std::vector<Decision> decisions;
  for (const DemoPod& pod : make_demo_workload(pod_count, flags.seed)) {
    auto decision = player.schedule(pod);
    if (!decision) {
      std::cerr << "epc-demo: scheduling " << pod.key() << ": " << decision.error().message << '\n';
      return 1;
    }
    decisions.push_back(std::move(decision.value()));
  }

  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  const std::vector<NodeView> nodes = fleet->views();
  print_placements(std::cout, decisions);
  print_rejections(std::cout, decisions);
  print_utilization(std::cout, nodes);
  print_summary(std::cout, decisions, nodes, fleet->stats(), elapsed);
#if defined(EPC_DEMO_HAVE_PLUGINS)
  if (plugins != nullptr) {
    const auto& times = plugins->propagation_times();
    std::int64_t sum = 0;
    std::int64_t worst = 0;
    for (const auto t : times) {
      sum += t.count();
      worst = std::max<std::int64_t>(worst, t.count());
    }
    const std::int64_t mean = times.empty() ? 0 : sum / static_cast<std::int64_t>(times.size());
    std::cout << "  plugin mode: " << plugins->plugin_pids().size()
              << " epc-device-plugin processes; Allocate -> extender ledger: mean " << mean / 1000
              << "." << (mean % 1000) / 100 << " ms, max " << worst / 1000 << "."
              << (worst % 1000) / 100 << " ms over " << times.size() << " pods\n";
  }
#endif

  bool healthy = true;
  for (const Decision& d : decisions) {
    if (d.extender_error) {
      healthy = false;
    }
  }
  for (const NodeView& n : nodes) {
    if (n.epc_in_use_bytes() > n.spec.epc_capacity_bytes && !n.pods.empty()) {
      std::cout << "  OVERCOMMITTED: " << n.spec.name << '\n';
      healthy = false;
    }
  }

  const std::string metrics_url = "http://" + http_address + "/metrics";
  auto page = http.get("/metrics");
  std::vector<MetricSample> samples;
  if (page && page->status == 200) {
    samples = parse_metrics(page->body);
  } else {
    std::cout << "  (could not scrape " << metrics_url << ": "
              << (page ? "HTTP " + std::to_string(page->status) : page.error().message) << ")\n";
  }
  print_metrics(std::cout, metrics_url, samples, nodes);
  // What still fits, as `epcctl capacity --extender <address>` prints it (GET /capacity).
  if (auto options = epcctl::parse_epcctl_options({"capacity", "--extender", http_address});
      options.ok()) {
    auto table = epcctl::capacity_report(http, *options);
    std::cout << "\nWhat still fits (GET http://" << http_address
              << "/capacity?epc=...; the same as `epcctl capacity --extender " << http_address
              << "`):\n";
    if (table.ok()) {
      std::istringstream lines(*table);
      for (std::string line; std::getline(lines, line);) {
        std::cout << "  " << line << '\n';
      }
    } else {
      std::cout << "  (" << table.error().message << ")\n";
      healthy = false;
    }
  }
  for (const NodeView& n : nodes) {
    const auto sample = find_sample(samples, kFreeEpcMetric, {{"node", n.spec.name}});
    if (sample && n.spec.sgx_present &&
        static_cast<std::int64_t>(sample->value) != n.epc_free_bytes()) {
      std::cout << "  extender and fleet disagree on free EPC of " << n.spec.name << '\n';
      healthy = false;
    }
  }
  std::cout << "  HTTP connections used: " << http.connections_opened() << '\n';
#if defined(EPC_DEMO_HAVE_PLUGINS)
  if (plugins != nullptr) {
    std::cout << "\nDevice plugins' own metrics (and /healthz on the same port):\n";
    for (const auto& [node, port] : plugins->plugin_metrics_ports()) {
      std::cout << "  http://127.0.0.1:" << port << "/metrics  " << node << '\n';
    }
  }
#endif
  if (flags.linger) {
    std::cout << "\nWhat if 300 more pods of the running mix arrived (docs/capacity-planning.md):\n"
              << "  epcctl snapshot --extender " << http_address << " --output snapshot.yaml\n"
              << "  epc-sim --trace snapshot.yaml --arrivals 300\n"
              << "epc-demo: lingering until SIGINT or SIGTERM" << std::endl;
    int signal = 0;
    sigwait(&linger_signals(), &signal);
    std::cout << "epc-demo: stopping" << std::endl;
  }
  return healthy ? 0 : 1;
}

}  // namespace
}  // namespace epc::tools::demo

int main(int argc, char** argv) {
  // Nothing below reports errors by throwing; an exception here is a bug (or out of memory), and
  // should still end with a message rather than std::terminate.
  try {
    epc::tools::demo::Flags flags;
    if (auto stop = epc::tools::demo::parse_flags(argc, argv, flags)) {
      return *stop;
    }
    if (flags.linger) {
      pthread_sigmask(SIG_BLOCK, &epc::tools::demo::linger_signals(), nullptr);
    }
    return flags.api ? epc::tools::demo::run_api(flags) : epc::tools::demo::run(flags);
  } catch (const std::exception& e) {
    std::cerr << "epc-demo: unexpected exception: " << e.what() << '\n';
    return 1;
  }
}
