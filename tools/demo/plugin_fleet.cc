#include "tools/demo/plugin_fleet.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sgx_resources.h"
#include "tools/standins/kubelet_standin.h"
#include "tools/standins/pod_resources_standin.h"
#include "tools/standins/sgx_root_standin.h"
#include "tools/standins/temp_dir.h"

extern char** environ;

namespace epc::tools::demo {

namespace {

using Clock = std::chrono::steady_clock;
namespace ts = epc::tools::standins;

// string_view constants made from literals: data() is NUL-terminated.
constexpr const char* kEnclaveResource = common::kEnclaveResource.data();
constexpr const char* kProvisionResource = common::kProvisionResource.data();
constexpr std::chrono::milliseconds kPollEvery{10};
// A plugin gets this long to exit after SIGTERM before it is SIGKILLed.
constexpr std::chrono::milliseconds kStopGrace{3000};

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

}  // namespace

// One node: SGX root, kubelet and PodResources stand-ins, and the plugin process.
class PluginFleet::Node {
 public:
  explicit Node(NodeSpec spec)
      : spec_(std::move(spec)), kubelet_dir_("epc-demo-kl"), podres_dir_("epc-demo-pr") {
    // The stand-in roots have no misc cgroup: the plugin cannot see live EPC use anywhere.
    spec_.live_epc_known = false;
    spec_.host_epc_bytes = 0;
    if (spec_.sgx_present) {
      const int sections = std::max(1, spec_.epc_sections);
      root_.set_cpu_flags("fpu sse sse2 avx2 sgx sgx_lc sgx2");
      for (int n = 0; n < sections; ++n) {
        root_.set_numa_epc(n, static_cast<std::uint64_t>(spec_.epc_capacity_bytes / sections));
      }
      root_.add_device_nodes(true, spec_.provision_slots > 0);
    } else {
      root_.set_cpu_flags("fpu sse sse2 avx2");
      root_.add_numa_node_without_sgx(0);
    }
    view_.spec = spec_;
    kubelet_ = std::make_unique<ts::KubeletStandin>(kubelet_dir_.path());
    pod_resources_ = std::make_unique<ts::PodResourcesStandin>(podres_dir_.file("kubelet.sock"));
  }

  ~Node() {
    stop_plugin();
    pod_resources_->stop();
    kubelet_->stop();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  common::Result<std::monostate> start(const Options& options) {
    // The stand-in root and the socket dirs are laid out in the constructor; a failure there
    // (no temp dir, a file not written) would only show later as a confused plugin.
    for (const auto& [what, status] :
         {std::pair{"SGX root", root_.status()}, std::pair{"kubelet dir", kubelet_dir_.status()},
          std::pair{"PodResources dir", podres_dir_.status()}}) {
      if (!status) {
        return common::Error{spec_.name + ": " + what + " stand-in: " + status.error().message};
      }
    }
    if (auto started = kubelet_->start(); !started) {
      return common::Error{spec_.name + ": kubelet stand-in: " + started.error().message};
    }
    if (auto started = pod_resources_->start(); !started) {
      return common::Error{spec_.name + ": PodResources stand-in: " + started.error().message};
    }
    const auto limit = [](std::uint32_t n) {
      return std::to_string(std::max<std::uint32_t>(1, n));
    };
    const std::vector<std::pair<const char*, std::string>> flags = {
        {"--root", root_.path()},
        {"--kubelet-dir", kubelet_dir_.path()},
        {"--node-name", spec_.name},
        {"--extender", options.grpc_target},
        {"--pod-resources-socket", pod_resources_->socket_path()},
        {"--enclave-limit", limit(spec_.enclave_slots)},
        {"--provision-limit", limit(spec_.provision_slots)},
        {"--holders-period-ms", std::to_string(options.holders_period.count())},
        {"--heartbeat-ms", std::to_string(options.heartbeat.count())},
        // /healthz and /metrics on a port the kernel picks; the plugin logs it (metrics_port()).
        {"--healthz-address", "127.0.0.1:0"}};
    std::vector<std::string> args = {options.plugin_binary};
    for (const auto& [flag, value] : flags) {
      args.emplace_back(flag);
      args.push_back(value);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    // The plugin logs to a file in the node's temp dir: twelve plugins' lines would bury the demo.
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    const std::string log = log_path();
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = ::posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return common::Error{"cannot start " + options.plugin_binary + " for " + spec_.name};
    }
    return std::monostate{};
  }

  // Registration with the kubelet stand-in and a first device list of each resource the node
  // advertises (SGX nodes only). Both: the extender learns provision slots from the plugin's
  // report, which can arrive before kubelet has the provision device list (it did under TSan), and
  // a pod admitted in between finds no provision device.
  common::Result<std::monostate> wait_registered(std::chrono::milliseconds timeout) {
    if (!spec_.sgx_present) {
      return std::monostate{};
    }
    const auto listed = [](const std::vector<ts::DeviceView>& d) { return !d.empty(); };
    const bool provision = spec_.provision_slots > 0;
    if (!kubelet_->wait_for_registrations(kEnclaveResource, 1, timeout) ||
        !kubelet_->wait_for_devices(kEnclaveResource, listed, timeout) ||
        (provision && (!kubelet_->wait_for_registrations(kProvisionResource, 1, timeout) ||
                       !kubelet_->wait_for_devices(kProvisionResource, listed, timeout)))) {
      return common::Error{spec_.name + ": the plugin did not register with kubelet in time" +
                           exit_note()};
    }
    return std::monostate{};
  }

  // What kubelet does when it admits `pod` here: pick free device ids, list the pod in
  // PodResources, Allocate on the plugin.
  common::Result<std::monostate> admit(const DemoPod& pod) {
    ts::ListedPod listed{pod.name, pod.namespace_name, {}};
    std::vector<std::pair<const char*, std::int64_t>> wants = {
        {kEnclaveResource, pod.enclave_slots()}, {kProvisionResource, pod.provision_slots()}};
    std::vector<std::pair<const char*, std::vector<std::string>>> granted;
    for (const auto& [resource, count] : wants) {
      if (count <= 0) {
        continue;
      }
      auto ids = take_ids(resource, count);
      if (!ids) {
        return ids.error();
      }
      granted.emplace_back(resource, *ids);
    }
    ts::ListedPod::Container container{"app", {}};
    for (const auto& [resource, ids] : granted) {
      container.devices.emplace_back(resource, ids);
    }
    listed.containers.push_back(std::move(container));
    pods_.push_back(std::move(listed));
    pod_resources_->set_pods(pods_);
    for (const auto& [resource, ids] : granted) {
      auto allocated = kubelet_->allocate(resource, {ids});
      if (!allocated) {
        return common::Error{spec_.name + ": Allocate " + resource + ": " +
                             allocated.error().message};
      }
    }
    view_.pods.push_back(pod.key());
    view_.epc_requested_bytes += pod.epc_bytes();
    view_.enclave_slots_used += pod.enclave_slots();
    view_.provision_slots_used += pod.provision_slots();
    return std::monostate{};
  }

  // SIGTERM without waiting, so a fleet can stop all its plugins at once.
  void signal_stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
    }
  }

  void stop_plugin() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kStopGrace;
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(kPollEvery);
    }
    pid_ = -1;
  }

  const NodeSpec& spec() const { return spec_; }
  const NodeView& view() const { return view_; }
  int pid() const { return pid_; }

  // The port of the plugin's /metrics, from its log line "healthz and metrics listening on
  // 127.0.0.1:PORT"; 0 until it is there.
  std::uint16_t metrics_port() const {
    std::ifstream log(log_path());
    const std::string marker = "healthz and metrics listening on 127.0.0.1:";
    for (std::string line; std::getline(log, line);) {
      if (const auto at = line.find(marker); at != std::string::npos) {
        const std::string port = line.substr(at + marker.size());
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        return ec == std::errc() && value <= 65535 ? static_cast<std::uint16_t>(value) : 0;
      }
    }
    return 0;
  }
  std::string log_path() const { return podres_dir_.file("plugin.log"); }

 private:
  common::Result<std::vector<std::string>> take_ids(const char* resource, std::int64_t count) {
    const auto devices = kubelet_->devices(resource);
    std::set<std::string>& used = used_[resource];
    std::vector<std::string> ids;
    if (devices) {
      for (const ts::DeviceView& d : *devices) {
        if (static_cast<std::int64_t>(ids.size()) < count && !used.contains(d.id)) {
          ids.push_back(d.id);
        }
      }
    }
    if (static_cast<std::int64_t>(ids.size()) < count) {
      return common::Error{spec_.name + ": kubelet has " + std::to_string(ids.size()) + " free " +
                           resource + " devices, the pod needs " + std::to_string(count)};
    }
    used.insert(ids.begin(), ids.end());
    return ids;
  }

  std::string exit_note() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return " (it exited with status " +
             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) +
             "; see " + log_path() + ")";
    }
    return "";
  }

  NodeSpec spec_;
  ts::SgxRootStandin root_;
  ts::TempDir kubelet_dir_;
  ts::TempDir podres_dir_;
  std::unique_ptr<ts::KubeletStandin> kubelet_;
  std::unique_ptr<ts::PodResourcesStandin> pod_resources_;
  pid_t pid_ = -1;
  std::vector<ts::ListedPod> pods_;
  std::map<std::string, std::set<std::string>> used_;
  NodeView view_;
};

PluginFleet::PluginFleet(Options options, http_client::HttpClient& http)
    : options_(std::move(options)), http_(http) {}

PluginFleet::~PluginFleet() {
  for (auto& node : nodes_) {
    node->signal_stop();
  }
  nodes_.clear();  // each Node waits for its plugin, then stops its stand-ins
}

common::Result<std::unique_ptr<PluginFleet>> PluginFleet::create(std::vector<NodeSpec> nodes,
                                                                 Options options,
                                                                 http_client::HttpClient& http) {
  if (::access(options.plugin_binary.c_str(), X_OK) != 0) {
    return common::Error{"--plugins: " + options.plugin_binary + " is not an executable"};
  }
  std::unique_ptr<PluginFleet> fleet(new PluginFleet(std::move(options), http));
  for (NodeSpec& spec : nodes) {
    fleet->nodes_.push_back(std::make_unique<Node>(std::move(spec)));
  }
  for (auto& node : fleet->nodes_) {
    if (auto started = node->start(fleet->options_); !started) {
      return started.error();
    }
  }
  for (auto& node : fleet->nodes_) {
    if (auto registered = node->wait_registered(fleet->options_.startup_timeout); !registered) {
      return registered.error();
    }
  }
  // Every node's first report reached the extender.
  auto up = fleet->wait_for_metrics(
      [&](const std::vector<MetricSample>& samples) {
        for (const auto& node : fleet->nodes_) {
          const auto s = find_sample(samples, "epc_node_up", {{"node", node->spec().name}});
          // epc_node_up is 0 by definition on a node without SGX: there, being listed is enough.
          if (!s || (node->spec().sgx_present && s->value != 1)) {
            return false;
          }
        }
        return true;
      },
      fleet->options_.startup_timeout, "every plugin's first report");
  if (!up) {
    return up.error();
  }
  return fleet;
}

common::Result<std::chrono::microseconds> PluginFleet::wait_for_metrics(
    const std::function<bool(const std::vector<MetricSample>&)>& done,
    std::chrono::milliseconds timeout, const std::string& what) {
  const auto start = Clock::now();
  std::string last_error;
  while (true) {
    auto page = http_.get("/metrics");
    if (page && page->status == 200) {
      if (done(parse_metrics(page->body))) {
        return since(start);
      }
    } else {
      last_error = page ? "HTTP " + std::to_string(page->status) : page.error().message;
    }
    if (Clock::now() - start > timeout) {
      return common::Error{"the extender's /metrics did not show " + what + " within " +
                           std::to_string(timeout.count()) + " ms" +
                           (last_error.empty() ? "" : " (" + last_error + ")")};
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

PluginFleet::Node* PluginFleet::find(const std::string& name) const {
  for (const auto& node : nodes_) {
    if (node->spec().name == name) {
      return node.get();
    }
  }
  return nullptr;
}

common::Result<std::uint64_t> PluginFleet::place(const std::string& node_name, const DemoPod& pod) {
  Node* node = find(node_name);
  if (node == nullptr) {
    return common::Error{"the scheduler chose " + node_name + ", which is not in the fleet"};
  }
  const auto allocate_start = Clock::now();
  if (auto admitted = node->admit(pod); !admitted) {
    return admitted.error();
  }
  ++allocations_;
  // The plugin learns the holder from PodResources and reports it; the extender joins it with
  // the EPC it saw in the pod's filter request. Done when both figures match ours.
  const NodeView& view = node->view();
  const auto pods = static_cast<double>(view.pods.size());
  const auto requested = static_cast<double>(view.epc_requested_bytes);
  auto seen = wait_for_metrics(
      [&](const std::vector<MetricSample>& samples) {
        const auto ledger = find_sample(samples, "epc_node_ledger_pods", {{"node", node_name}});
        const auto bytes = find_sample(samples, "epc_node_requested_bytes", {{"node", node_name}});
        return ledger && bytes && ledger->value == pods && bytes->value == requested;
      },
      options_.propagation_timeout, pod.key() + " on " + node_name);
  if (!seen) {
    return seen.error();
  }
  propagation_.push_back(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - allocate_start));
  return allocations_;
}

std::vector<std::string> PluginFleet::node_names() const {
  std::vector<std::string> names;
  for (const auto& node : nodes_) {
    names.push_back(node->spec().name);
  }
  return names;
}

std::vector<NodeView> PluginFleet::views() const {
  std::vector<NodeView> out;
  for (const auto& node : nodes_) {
    out.push_back(node->view());
  }
  return out;
}

FleetStats PluginFleet::stats() const {
  // The plugins' streams are their own; what the demo knows is the Allocates it made.
  FleetStats stats;
  stats.snapshots_sent = nodes_.size();
  stats.changes_sent = allocations_;
  stats.real_plugins = true;
  return stats;
}

std::vector<std::pair<std::string, std::uint16_t>> PluginFleet::plugin_metrics_ports() const {
  std::vector<std::pair<std::string, std::uint16_t>> out;
  for (const auto& node : nodes_) {
    out.emplace_back(node->spec().name, node->metrics_port());
  }
  return out;
}

std::vector<std::pair<std::string, int>> PluginFleet::plugin_pids() const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& node : nodes_) {
    out.emplace_back(node->spec().name, node->pid());
  }
  return out;
}

}  // namespace epc::tools::demo
