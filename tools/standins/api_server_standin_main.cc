// epc-apiserver-standin: the test kube-apiserver as a program, for scripts/demo. It serves
// https://127.0.0.1:PORT until SIGTERM or SIGINT, optionally seeded with SGX nodes and pending SGX
// pods, and can write a kubeconfig (admin token) plus the test certificates beside it.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include <pthread.h>
#include <signal.h>

#include "tools/standins/api_server_standin.h"

namespace {

using epc::tools::standins::ApiServerStandin;

constexpr std::string_view kUsage =
    "usage: epc-apiserver-standin [--port N] [--write-kubeconfig PATH] [--nodes N]\n"
    "                             [--node-epc Q] [--node-prefix P] [--pods N] [--pod-epc Q]\n"
    "  --port N                listen on 127.0.0.1:N (default 0: an ephemeral port)\n"
    "  --write-kubeconfig PATH a kubeconfig with the admin token; ca.crt, server.crt, client.crt\n"
    "                          and their keys go into the same directory\n"
    "  --nodes N               add N SGX nodes (default 0), Ready, named <prefix>1..N\n"
    "  --node-epc Q            each node's sgx.intel.com/epc (default 8Gi)\n"
    "  --node-prefix P         node name prefix (default sgx-node-)\n"
    "  --pods N                create N pending SGX pods in namespace sgx-apps (default 0)\n"
    "  --pod-epc Q             each pod's sgx.intel.com/epc request (default 512Mi)\n"
    "Prints \"listening on https://127.0.0.1:PORT\", then serves until SIGTERM or SIGINT.\n";

bool parse_count(const std::string& text, long& out) {
  char* end = nullptr;
  out = std::strtol(text.c_str(), &end, 10);
  return !text.empty() && end != nullptr && *end == '\0' && out >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0;
  long nodes = 0;
  long pods = 0;
  std::string kubeconfig;
  std::string node_epc = "8Gi";
  std::string node_prefix = "sgx-node-";
  std::string pod_epc = "512Mi";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "epc-apiserver-standin: " << arg << " needs a value (or is unknown)\n" << kUsage;
      return 2;
    }
    const std::string value = argv[++i];
    bool ok = true;
    if (arg == "--port") {
      ok = parse_count(value, port) && port <= 65535;
    } else if (arg == "--nodes") {
      ok = parse_count(value, nodes);
    } else if (arg == "--pods") {
      ok = parse_count(value, pods);
    } else if (arg == "--write-kubeconfig") {
      kubeconfig = value;
    } else if (arg == "--node-epc") {
      node_epc = value;
    } else if (arg == "--node-prefix") {
      node_prefix = value;
    } else if (arg == "--pod-epc") {
      pod_epc = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "epc-apiserver-standin: bad option " << arg << " " << value << "\n" << kUsage;
      return 2;
    }
  }

  // SIGTERM and SIGINT are taken with sigwait below; every thread started from here on has them
  // blocked, so none dies of them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ApiServerStandin::Options options;
  options.port = static_cast<std::uint16_t>(port);
  auto server = ApiServerStandin::start(options);
  if (!server.ok()) {
    std::cerr << "epc-apiserver-standin: " << server.error().message << "\n";
    return 1;
  }
  ApiServerStandin& api = *server.value();

  for (long n = 1; n <= nodes; ++n) {
    const std::string name = node_prefix + std::to_string(n);
    auto added = api.add_node({.name = name,
                               .capacity = {{"cpu", "8"},
                                            {"memory", "32Gi"},
                                            {"pods", "110"},
                                            {"sgx.intel.com/epc", node_epc},
                                            {"sgx.intel.com/enclave", "110"},
                                            {"sgx.intel.com/provision", "110"}},
                               .allocatable = std::nullopt,
                               .labels = {{"feature.node.kubernetes.io/cpu-sgx.enabled", "true"},
                                          {"kubernetes.io/hostname", name}},
                               .ready = "True",
                               .unschedulable = false,
                               .uid = ""});
    if (!added.ok()) {
      std::cerr << "epc-apiserver-standin: " << added.error().message << "\n";
      return 1;
    }
  }
  for (long n = 1; n <= pods; ++n) {
    epc::tools::standins::PodSpec pod;
    pod.namespace_name = "sgx-apps";
    pod.name = "sgx-app-" + std::to_string(n);
    pod.epc = pod_epc;
    pod.extra_requests = {{"cpu", "100m"}};
    auto created = api.create_pod(pod);
    if (!created.ok()) {
      std::cerr << "epc-apiserver-standin: " << created.error().message << "\n";
      return 1;
    }
  }
  if (!kubeconfig.empty()) {
    const std::filesystem::path path(kubeconfig);
    const std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
    auto written = epc::tools::standins::write_test_certificates(api.certificates(), dir);
    if (written.ok()) {
      written = api.write_kubeconfig(kubeconfig, epc::tools::standins::KubeconfigUser::kAdminToken);
    }
    if (!written.ok()) {
      std::cerr << "epc-apiserver-standin: " << written.error().message << "\n";
      return 1;
    }
  }

  std::cout << "listening on " << api.url() << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  return 0;
}
