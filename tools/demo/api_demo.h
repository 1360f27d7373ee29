#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace epc::tools::demo {

// epc-demo --api: binding mode through the extender's Kubernetes API path, with no cluster.
//
// An ApiServerStandin (real HTTPS on 127.0.0.1, in this process) holds SGX nodes that advertise
// allocatable sgx.intel.com/epc as Intel's NFD rule does, and a seeded mix of pending SGX pods.
// A real epc-extender is started as a child process with a kubeconfig for it (token user); once
// its /readyz answers 200 the player does kube-scheduler's part in binding mode: per pod filter,
// prioritize (unless one node is left), pick the best score, then POST <prefix>/bind from a
// binding thread while the next pod's filter already runs. A refused or failed bind re-queues the
// pod. The stand-in's binding observer checks, under its store lock, that no node ever holds more
// EPC than it has. The report shows the placements, the refused binds, the rejected pods, EPC per
// node as the API's pods say next to the extender's ledger (its /metrics), and the request
// counters.

// One node of the API fleet.
struct ApiNodeSpec {
  std::string name;
  std::int64_t epc_bytes = 0;  // capacity = allocatable sgx.intel.com/epc
  int enclave_slots = 110;     // sgx.intel.com/enclave
  int provision_slots = 110;   // sgx.intel.com/provision; 0: not advertised
};

// Eight SGX nodes from a 64 GiB Xeon down to a 93.5 MiB client part.
std::vector<ApiNodeSpec> default_api_nodes();

struct ApiDemoOptions {
  std::string extender_binary;  // the epc-extender to start
  std::string url_prefix = "/sgx";
  int pods = 80;
  std::uint64_t seed = 42;
  int bind_threads = 8;  // kube-scheduler's binding goroutines, as far as this demo needs
  // Every Nth binding cycle waits this long before its bind (a slow PreBind plugin), so later pods'
  // filters and binds overtake it: the race that makes the extender refuse binds. 0: never.
  int slow_bind_every = 5;
  std::chrono::milliseconds slow_bind_delay{30};
  // The stand-in applies each Binding after this long (etcd's write latency).
  std::chrono::milliseconds api_binding_latency{5};
  int max_attempts = 8;  // scheduling attempts per pod before the demo calls it undecided
  std::chrono::milliseconds startup_timeout{30000};   // extender listening, then /readyz == 200
  std::chrono::milliseconds http_timeout{5000};       // kube-scheduler's httpTimeout
  std::chrono::milliseconds converge_timeout{10000};  // for /metrics to agree with the API
};

// Runs the demo, writes the report to `out` and failures to `err`. Returns the exit status: 0 when
// every pod was decided (bound or rejected by filter), no node ever held more EPC than it has, the
// extender answered without errors and its ledger agrees with the API; 1 otherwise. Never throws
// on its own (errors are values); the caller still guards against std::bad_alloc.
int run_api_demo(const ApiDemoOptions& options, std::ostream& out, std::ostream& err);

}  // namespace epc::tools::demo
