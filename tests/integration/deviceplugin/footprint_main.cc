// epc_dp_footprint: measures epc-device-plugin as docs/benchmarks.md reports it, with the real
// binaries on a fake SGX root and the kubelet stand-ins (not a test: it asserts nothing, prints).
//   - RSS: VmRSS from /proc/PID/status once registered with kubelet and reporting to the extender;
//   - idle CPU: utime+stime from /proc/PID/stat over 10 s with nothing happening (default flags);
//   - propagation: Allocate (with the pod listed by PodResources) -> the extender's state showing
//     the slot used, over `runs` Allocates 200 ms apart (median, min, max).
// Usage: epc_dp_footprint [runs] [--tls]   (run from the build directory's tree; paths are compiled
// in). --tls: the report stream as a secured cluster runs it, over TLS with a per-node client
// certificate (the extender's --grpc-auth mtls), so the plugin's TLS code is in use.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/http_client/http_client.h"
#include "tools/load/extender_process.h"
#include "tools/standins/kubelet_standin.h"
#include "tools/standins/pod_resources_standin.h"
#include "tools/standins/sgx_root_standin.h"
#include "tools/standins/temp_dir.h"
#include "tools/standins/test_certificates.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kEnclave = "sgx.intel.com/enclave";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

long rss_kib(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

// "RssAnon: 1234 kB" -> "RssAnon 1234 kB" (the whitespace squeezed).
std::string status_line(pid_t pid, const std::string& key) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find(key);
  if (at == std::string::npos) {
    return key + " ?";
  }
  std::istringstream line(status.substr(at, status.find('\n', at) - at));
  std::string name;
  std::string value;
  std::string unit;
  line >> name >> value >> unit;
  name.pop_back();  // the ':'
  return name + " " + value + (unit.empty() ? "" : " " + unit);
}

// utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat, after the ")" of comm).
long cpu_ticks(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) {
      utime = std::atol(field.c_str());
    } else if (i == 15) {
      stime = std::atol(field.c_str());
    }
  }
  return utime + stime;
}

// Rss per mapped file from /proc/PID/smaps, largest first; anonymous mappings (heap, arenas,
// stacks) summed as "[anonymous]". Each file's figure includes its relocated (private) data.
void print_rss_by_mapping(pid_t pid) {
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::map<std::string, long> by_file;
  std::string line;
  std::string current = "[anonymous]";
  while (std::getline(smaps, line)) {
    if (line.empty()) {
      continue;
    }
    if (line.compare(0, 4, "Rss:") == 0) {
      by_file[current] += std::atol(line.c_str() + 4);
      continue;
    }
    // A mapping's header: "start-end perms offset dev inode [path]"; field lines have a ':' in
    // their first word.
    const auto first_space = line.find(' ');
    if (first_space == std::string::npos || line.find(':') < first_space) {
      continue;
    }
    const auto slash = line.find('/');
    current = slash != std::string::npos ? line.substr(line.rfind('/') + 1) : "[anonymous]";
  }
  std::vector<std::pair<long, std::string>> rows;
  for (const auto& [file, kib] : by_file) {
    rows.emplace_back(kib, file);
  }
  std::sort(rows.rbegin(), rows.rend());
  std::printf("Rss by mapping (KiB):\n");
  for (const auto& [kib, file] : rows) {
    if (kib > 0) {
      std::printf("  %6ld  %s\n", kib, file.c_str());
    }
  }
}

bool metrics_have(epc::tools::http_client::HttpClient& http, const std::string& line) {
  auto metrics = http.get("/metrics");
  return metrics.ok() && metrics->body.find(line) != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  bool tls = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--tls") {
      tls = true;
    } else {
      runs = std::atoi(argv[i]);
    }
  }
  epc::tools::standins::TempDir tls_dir("epc-fp-tls");
  std::vector<std::string> extender_args = {"--http-port", "0", "--grpc-address", "127.0.0.1:0"};
  std::vector<std::string> plugin_tls_args;
  if (tls) {
    epc::tools::standins::TestCertificateOptions options;
    options.client_common_name = "system:node:node-fp";
    options.client_organization = "system:nodes";
    auto certificates = epc::tools::standins::make_test_certificates(options);
    if (!certificates.ok() ||
        !epc::tools::standins::write_test_certificates(*certificates, tls_dir.path()).ok()) {
      std::fprintf(stderr, "cannot make the test certificates\n");
      return 1;
    }
    extender_args.insert(extender_args.end(),
                         {"--grpc-tls-cert-file", tls_dir.file("server.crt"), "--grpc-tls-key-file",
                          tls_dir.file("server.key"), "--grpc-tls-client-ca-file",
                          tls_dir.file("ca.crt"), "--grpc-auth", "mtls"});
    plugin_tls_args = {"--extender-ca-file",          tls_dir.file("ca.crt"),
                       "--extender-client-cert-file", tls_dir.file("client.crt"),
                       "--extender-client-key-file",  tls_dir.file("client.key")};
  }
  epc::tools::standins::SgxRootStandin root;
  root.make_sgx2_node(2, 64ULL << 30);
  epc::tools::standins::TempDir kubelet_dir("epc-fp-k");
  epc::tools::standins::TempDir podres_dir("epc-fp-p");
  epc::tools::standins::KubeletStandin kubelet(kubelet_dir.path());
  epc::tools::standins::PodResourcesStandin pod_resources(podres_dir.file("kubelet.sock"));
  if (!kubelet.start().ok() || !pod_resources.start().ok()) {
    std::fprintf(stderr, "cannot start the kubelet stand-ins\n");
    return 1;
  }
  auto extender = epc::tools::load::ExtenderProcess::start(EPC_BINARY_DIR "/extender/epc-extender",
                                                           extender_args, 20s);
  if (!extender.ok()) {
    std::fprintf(stderr, "%s\n", extender.error().message.c_str());
    return 1;
  }
  epc::tools::http_client::HttpClient http(static_cast<std::uint16_t>(extender->http_port()));

  std::vector<std::string> args = {EPC_BINARY_DIR "/deviceplugin/epc-device-plugin",
                                   "--root",
                                   root.path(),
                                   "--kubelet-dir",
                                   kubelet_dir.path(),
                                   "--node-name",
                                   "node-fp",
                                   "--extender",
                                   "127.0.0.1:" + std::to_string(extender->grpc_port()),
                                   "--pod-resources-socket",
                                   pod_resources.socket_path()};
  args.insert(args.end(), plugin_tls_args.begin(), plugin_tls_args.end());
  std::vector<char*> argv_plugin;
  for (auto& arg : args) {
    argv_plugin.push_back(arg.data());
  }
  argv_plugin.push_back(nullptr);
  // The plugin's log lines would drown the numbers: to /dev/null.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv_plugin[0], &actions, nullptr, argv_plugin.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start epc-device-plugin\n");
    return 1;
  }
  const auto until = [](auto done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (done()) {
        return true;
      }
      std::this_thread::sleep_for(1ms);
    }
    return false;
  };
  if (!kubelet.wait_for_registrations(kEnclave, 1, 10s) ||
      !until([&] { return metrics_have(http, "epc_node_up{node=\"node-fp\"} 1"); }, 10s)) {
    std::fprintf(stderr, "plugin did not register or report\n");
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return 1;
  }
  std::this_thread::sleep_for(1s);  // startup settled
  std::printf("report stream: %s\n",
              tls ? "TLS, client certificate (--grpc-auth mtls)" : "plain text on loopback");
  std::printf("plugin pid %d VmRSS after startup: %ld KiB (%s, %s, %s)\n", pid, rss_kib(pid),
              status_line(pid, "RssAnon:").c_str(), status_line(pid, "RssFile:").c_str(),
              status_line(pid, "Threads:").c_str());

  const long ticks_before = cpu_ticks(pid);
  std::this_thread::sleep_for(10s);
  const long ticks = cpu_ticks(pid) - ticks_before;
  print_rss_by_mapping(pid);
  const long hz = sysconf(_SC_CLK_TCK);
  std::printf("idle CPU over 10 s: %ld ticks (%.0f ms, %.3f %% of one core)\n", ticks,
              1000.0 * static_cast<double>(ticks) / static_cast<double>(hz),
              100.0 * static_cast<double>(ticks) / static_cast<double>(hz) / 10.0);

  std::vector<double> latencies_ms;
  std::vector<epc::tools::standins::ListedPod> pods;
  for (int i = 0; i < runs; ++i) {
    const std::string slot = "sgx-enclave-" + std::to_string(i);
    pods.push_back({"pod-" + std::to_string(i), "bench", {{"app", {{kEnclave, {slot}}}}}});
    pod_resources.set_pods(pods);
    const std::string want =
        "epc_node_enclave_slots{node=\"node-fp\",state=\"used\"} " + std::to_string(i + 1) + "\n";
    const auto start = Clock::now();
    if (!kubelet.allocate(kEnclave, {{slot}}).ok() ||
        !until([&] { return metrics_have(http, want); }, 10s)) {
      std::fprintf(stderr, "run %d: allocation never showed up\n", i);
      continue;
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    std::this_thread::sleep_for(200ms);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  if (!latencies_ms.empty()) {
    std::printf(
        "Allocate -> extender state over %zu runs: median %.1f ms, min %.1f ms, max %.1f ms\n",
        latencies_ms.size(), latencies_ms[latencies_ms.size() / 2], latencies_ms.front(),
        latencies_ms.back());
  }
  std::printf("plugin VmRSS at the end: %ld KiB\n", rss_kib(pid));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                 latencies_ms.size() == static_cast<std::size_t>(runs)
             ? 0
             : 1;
}
