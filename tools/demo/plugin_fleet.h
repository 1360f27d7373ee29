#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "tools/demo/demo_workload.h"
#include "tools/demo/fleet.h"
#include "tools/demo/metrics_scrape.h"
#include "tools/demo/node_fleet.h"
#include "tools/http_client/http_client.h"

namespace epc::tools::demo {

// The nodes as real epc-device-plugin processes. Per node: an SGX root stand-in in a temp dir (EPC
// per NUMA node, /dev/sgx_enclave, /dev/sgx_provision where the node offers provisioning, cpuinfo
// flags; no SGX flags on the CPU-only node), a kubelet stand-in (Registration server that dials the
// plugin back, ListAndWatch, Allocate) and a PodResources stand-in, and the plugin itself reporting
// to the extender over gRPC. Placing a pod does what kubelet does on admission: PodResources lists
// the pod with its device ids and Allocate is called on the plugin; place() then polls the
// extender's /metrics until its ledger shows the pod, so the next filter already sees it. The EPC a
// pod holds comes from the extender's own ledger join (filter request <-> holder by
// namespace/name): the plugin only knows slots.
//
// The stand-in roots have no misc cgroup, so live EPC use is unknown on every node here.
//
// Thread-safety: one thread (the player's).
class PluginFleet final : public NodeFleet {
 public:
  struct Options {
    std::string plugin_binary;
    std::string grpc_target;  // the extender's NodeReports address
    std::chrono::milliseconds heartbeat{500};
    std::chrono::milliseconds holders_period{200};
    // Startup (registration, first report) and per-pod propagation bounds.
    std::chrono::milliseconds startup_timeout{20000};
    std::chrono::milliseconds propagation_timeout{3000};
  };

  // Starts every node's stand-ins and plugin and waits until the extender lists every node as up
  // (polling /metrics through `http`, which must outlive the fleet).
  static common::Result<std::unique_ptr<PluginFleet>> create(std::vector<NodeSpec> nodes,
                                                             Options options,
                                                             http_client::HttpClient& http);
  ~PluginFleet() override;  // SIGTERM to every plugin, wait, remove the temp dirs
  PluginFleet(const PluginFleet&) = delete;
  PluginFleet& operator=(const PluginFleet&) = delete;

  common::Result<std::uint64_t> place(const std::string& node, const DemoPod& pod) override;
  std::vector<std::string> node_names() const override;
  std::vector<NodeView> views() const override;
  FleetStats stats() const override;

  // "node pid" per plugin process, for the output.
  std::vector<std::pair<std::string, int>> plugin_pids() const;
  // "node port" of each plugin's /metrics (and /healthz) on 127.0.0.1; port 0 when the plugin
  // has not logged it (yet).
  std::vector<std::pair<std::string, std::uint16_t>> plugin_metrics_ports() const;
  // Allocate -> extender ledger shows the pod, per placed pod.
  const std::vector<std::chrono::microseconds>& propagation_times() const { return propagation_; }

 private:
  class Node;
  PluginFleet(Options options, http_client::HttpClient& http);
  Node* find(const std::string& name) const;
  // Polls /metrics until `done` holds for the samples; returns how long it took.
  common::Result<std::chrono::microseconds> wait_for_metrics(
      const std::function<bool(const std::vector<MetricSample>&)>& done,
      std::chrono::milliseconds timeout, const std::string& what);

  Options options_;
  http_client::HttpClient& http_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::chrono::microseconds> propagation_;
  std::uint64_t allocations_ = 0;
};

}  // namespace epc::tools::demo
