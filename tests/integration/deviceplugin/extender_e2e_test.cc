// End to end with both real binaries: epc-device-plugin on a fake SGX root, registered with the
// kubelet stand-in and reading the PodResources stand-in, reports to a real epc-extender process,
// which kube-scheduler would ask over HTTP. Covers an Allocate reaching the filter answer, the
// extender restarting under the plugin, and the plugin being killed.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/http_client/http_client.h"
#include "tools/load/extender_process.h"
#include "tools/standins/kubelet_standin.h"
#include "tools/standins/pod_resources_standin.h"
#include "tools/standins/sgx_root_standin.h"
#include "tools/standins/temp_dir.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;

constexpr char kNode[] = "node-e2e";
constexpr char kExtenderBinary[] = EPC_BINARY_DIR "/extender/epc-extender";
constexpr char kPluginBinary[] = EPC_BINARY_DIR "/deviceplugin/epc-device-plugin";
constexpr std::uint64_t kMi = 1ULL << 20;
constexpr auto kWait = 10s;
const std::string kEnclave = "sgx.intel.com/enclave";

// kube-scheduler's filter call (NodeNames mode, as in
// tests/data/kube-scheduler/filter-request-nodenames.json) for one pod asking `epc` and one slot.
std::string filter_body(const std::string& ns, const std::string& name, const std::string& epc) {
  return R"({"Pod":{"metadata":{"name":")" + name + R"(","namespace":")" + ns + R"(","uid":"uid-)" +
         name +
         R"("},"spec":{"containers":[{"name":"app","image":"registry.invalid/sgx-demo:1.0",)"
         R"("resources":{"limits":{"sgx.intel.com/enclave":"1","sgx.intel.com/epc":")" +
         epc + R"("},"requests":{"sgx.intel.com/enclave":"1","sgx.intel.com/epc":")" + epc +
         R"("}}}]}},"Nodes":null,"NodeNames":[")" + kNode + R"("]})";
}

struct Verdict {
  bool passed = false;
  std::string failed;        // FailedNodes[kNode]
  std::string unresolvable;  // FailedAndUnresolvableNodes[kNode]
  std::string error;
};

Verdict filter(epc::tools::http_client::HttpClient& http, const std::string& body) {
  Verdict verdict;
  auto response = http.post("/sgx/filter", body);
  if (!response.ok()) {
    verdict.error = response.error().message;
    return verdict;
  }
  boost::system::error_code ec;
  const boost::json::value reply = boost::json::parse(response->body, ec);
  if (ec || !reply.is_object()) {
    verdict.error = "not JSON: " + response->body;
    return verdict;
  }
  const auto& object = reply.as_object();
  if (const auto* names = object.if_contains("NodeNames"); names && names->is_array()) {
    for (const auto& name : names->as_array()) {
      verdict.passed = verdict.passed || (name.is_string() && name.as_string() == kNode);
    }
  }
  const auto reason_in = [&](const char* key) -> std::string {
    const auto* map = object.if_contains(key);
    if (map == nullptr || !map->is_object()) {
      return {};
    }
    const auto* reason = map->as_object().if_contains(kNode);
    return reason != nullptr && reason->is_string() ? std::string(reason->as_string()) : "";
  };
  verdict.failed = reason_in("FailedNodes");
  verdict.unresolvable = reason_in("FailedAndUnresolvableNodes");
  if (const auto* error = object.if_contains("Error"); error && error->is_string()) {
    verdict.error = std::string(error->as_string());
  }
  return verdict;
}

// Polls `done` every 5 ms until it holds or `timeout` passes; the time it took, or nullopt.
std::optional<std::chrono::milliseconds> wait_until(const std::function<bool()>& done,
                                                    std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    if (done()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

// A loopback TCP port nobody listens on right now (the extender gets it again after a restart).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// The epc-device-plugin binary as a child process; SIGKILLed when still running at the end.
class PluginProcess {
 public:
  explicit PluginProcess(std::vector<std::string> args) {
    args.insert(args.begin(), kPluginBinary);
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, kPluginBinary, nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
  }
  ~PluginProcess() { kill_now(); }
  PluginProcess(const PluginProcess&) = delete;
  PluginProcess& operator=(const PluginProcess&) = delete;

  bool started() const { return pid_ > 0; }
  void kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

// One node: a fake SGX root (one NUMA node, 128 MiB EPC), the kubelet and PodResources stand-ins.
class Node {
 public:
  Node() : kubelet_dir_("epc-e2e-kubelet"), podres_dir_("epc-e2e-podres") {
    root_.make_sgx2_node(1, 128 * kMi);
    kubelet_ = std::make_unique<epc::tools::standins::KubeletStandin>(kubelet_dir_.path());
    pod_resources_ = std::make_unique<epc::tools::standins::PodResourcesStandin>(
        podres_dir_.file("kubelet.sock"));
  }
  bool start() { return kubelet_->start().ok() && pod_resources_->start().ok(); }

  std::unique_ptr<PluginProcess> start_plugin(int grpc_port) {
    return std::make_unique<PluginProcess>(std::vector<std::string>{
        "--root", root_.path(), "--kubelet-dir", kubelet_dir_.path(), "--node-name", kNode,
        "--extender", "127.0.0.1:" + std::to_string(grpc_port), "--pod-resources-socket",
        pod_resources_->socket_path(), "--enclave-limit", "8", "--provision-limit", "2",
        // Heartbeats well inside the extender's 1 s staleness threshold.
        "--heartbeat-ms", "200"});
  }

  epc::tools::standins::KubeletStandin& kubelet() { return *kubelet_; }
  epc::tools::standins::PodResourcesStandin& pod_resources() { return *pod_resources_; }

  // Kubelet admits shop/<pod> with `slots` enclave slots: PodResources lists it, then Allocate.
  bool admit(const std::string& pod, const std::vector<std::string>& slots) {
    pod_resources_->set_pods(
        {epc::tools::standins::ListedPod{pod, "shop", {{"app", {{kEnclave, slots}}}}}});
    return kubelet_->allocate(kEnclave, {slots}).ok();
  }

 private:
  epc::tools::standins::SgxRootStandin root_;
  epc::tools::standins::TempDir kubelet_dir_;
  epc::tools::standins::TempDir podres_dir_;
  std::unique_ptr<epc::tools::standins::KubeletStandin> kubelet_;
  std::unique_ptr<epc::tools::standins::PodResourcesStandin> pod_resources_;
};

epc::common::Result<epc::tools::load::ExtenderProcess> start_extender(
    const std::string& grpc_address) {
  return epc::tools::load::ExtenderProcess::start(
      kExtenderBinary, {"--http-port", "0", "--grpc-address", grpc_address, "--stale-after", "1s"},
      20s);
}

bool metric_has(epc::tools::http_client::HttpClient& http, const std::string& line) {
  auto metrics = http.get("/metrics");
  return metrics.ok() && metrics->body.find(line) != std::string::npos;
}

const std::string kBig = filter_body("default", "big", "64Mi");
const std::string kWeb = filter_body("shop", "web", "100Mi");

// An Allocate plus the PodResources holder reach the extender's state and flip its filter answer
// for a pod needing more EPC than is then free, within a second.
TEST(DevicePluginExtenderEndToEnd, AllocateChangesTheFilterAnswerWithinASecond) {
  Node node;
  ASSERT_TRUE(node.start());
  auto extender = start_extender("127.0.0.1:0");
  ASSERT_TRUE(extender.ok()) << extender.error().message;
  epc::tools::http_client::HttpClient http(static_cast<std::uint16_t>(extender->http_port()));
  auto plugin = node.start_plugin(extender->grpc_port());
  ASSERT_TRUE(plugin->started());

  // The plugin's snapshot arrives: 128 MiB free, both pods fit.
  ASSERT_TRUE(wait_until([&] { return filter(http, kBig).passed; }, kWait));
  // kube-scheduler asks for shop/web (100 MiB): the extender notes its demand.
  ASSERT_TRUE(filter(http, kWeb).passed);
  ASSERT_TRUE(node.kubelet().wait_for_registrations(kEnclave, 1, kWait));

  ASSERT_TRUE(node.admit("web", {"sgx-enclave-0"}));
  Verdict verdict;
  const auto took = wait_until(
      [&] {
        verdict = filter(http, kBig);
        return !verdict.passed;
      },
      kWait);
  ASSERT_TRUE(took.has_value()) << "the holder never reached the extender";
  EXPECT_LT(took->count(), 1000) << "Allocate -> filter answer took " << took->count() << " ms";
  // 28 MiB left: preempting web would help, so FailedNodes rather than unresolvable.
  EXPECT_NE(verdict.failed, "");
  EXPECT_EQ(verdict.unresolvable, "");
  EXPECT_EQ(verdict.error, "");
  EXPECT_TRUE(metric_has(http, "epc_node_requested_bytes{node=\"node-e2e\"} 104857600"));

  // web finishes: PodResources stops listing it and the next poll frees the EPC again.
  node.pod_resources().set_pods({});
  ASSERT_TRUE(node.admit("small", {"sgx-enclave-1"}));  // an Allocate pokes the poll
  EXPECT_TRUE(wait_until([&] { return filter(http, kBig).passed; }, kWait));
  EXPECT_EQ(plugin->terminate(), 0);
}

// The extender restarts on the same port mid-stream: the plugin reconnects with backoff, sends a
// fresh snapshot including what changed while the extender was away, and the node reappears.
TEST(DevicePluginExtenderEndToEnd, PluginReconnectsAfterTheExtenderRestarts) {
  Node node;
  ASSERT_TRUE(node.start());
  const int port = free_port();
  ASSERT_GT(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto first_started = start_extender(address);
  ASSERT_TRUE(first_started.ok()) << first_started.error().message;
  epc::tools::load::ExtenderProcess first = std::move(first_started).value();
  auto plugin = node.start_plugin(port);
  ASSERT_TRUE(plugin->started());
  {
    epc::tools::http_client::HttpClient http(static_cast<std::uint16_t>(first.http_port()));
    ASSERT_TRUE(wait_until([&] { return filter(http, kBig).passed; }, kWait));
  }
  ASSERT_TRUE(node.kubelet().wait_for_registrations(kEnclave, 1, kWait));
  EXPECT_EQ(first.terminate(std::chrono::seconds(10)), 0);

  // While the extender is away the kubelet side keeps working (nothing blocks on the report).
  const auto allocate_start = std::chrono::steady_clock::now();
  ASSERT_TRUE(node.admit("web", {"sgx-enclave-0", "sgx-enclave-1"}));
  EXPECT_LT(std::chrono::steady_clock::now() - allocate_start, 2s);

  auto second = start_extender(address);
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_EQ(second->grpc_port(), port);
  epc::tools::http_client::HttpClient http(static_cast<std::uint16_t>(second->http_port()));
  const auto back = wait_until(
      [&] {
        return metric_has(http, "epc_node_up{node=\"node-e2e\"} 1") &&
               metric_has(http, "epc_node_enclave_slots{node=\"node-e2e\",state=\"used\"} 2");
      },
      kWait);
  ASSERT_TRUE(back.has_value()) << "the plugin did not report to the restarted extender";
  EXPECT_TRUE(filter(http, kBig).passed);
  EXPECT_EQ(plugin->terminate(), 0);
}

// The plugin is SIGKILLed: its node goes stale in the extender ("EPC report too old") and comes
// back as soon as a new plugin process reports.
TEST(DevicePluginExtenderEndToEnd, KilledPluginGoesStaleAndANewOneBringsTheNodeBack) {
  Node node;
  ASSERT_TRUE(node.start());
  auto started = start_extender("127.0.0.1:0");
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto extender = std::make_unique<epc::tools::load::ExtenderProcess>(std::move(started).value());
  epc::tools::http_client::HttpClient http(static_cast<std::uint16_t>(extender->http_port()));
  auto plugin = node.start_plugin(extender->grpc_port());
  ASSERT_TRUE(plugin->started());
  ASSERT_TRUE(wait_until([&] { return filter(http, kBig).passed; }, kWait));
  ASSERT_TRUE(node.kubelet().wait_for_registrations(kEnclave, 1, kWait));

  plugin->kill_now();
  Verdict verdict;
  const auto stale = wait_until(
      [&] {
        verdict = filter(http, kBig);
        return !verdict.passed;
      },
      kWait);
  ASSERT_TRUE(stale.has_value()) << "the node never went stale";
  EXPECT_NE((verdict.failed + verdict.unresolvable).find("EPC report too old"), std::string::npos)
      << verdict.failed << " | " << verdict.unresolvable;

  auto replacement = node.start_plugin(extender->grpc_port());
  ASSERT_TRUE(replacement->started());
  EXPECT_TRUE(wait_until([&] { return filter(http, kBig).passed; }, kWait));
  EXPECT_TRUE(node.kubelet().wait_for_registrations(kEnclave, 2, kWait));
  EXPECT_EQ(replacement->terminate(), 0);
  EXPECT_EQ(extender->terminate(std::chrono::seconds(10)), 0);
}

}  // namespace
