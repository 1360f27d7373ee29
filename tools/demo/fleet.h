#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/demo/demo_workload.h"
#include "tools/demo/node_fleet.h"

namespace epc::tools::demo {

// One simulated node, as its device plugin would discover it.
struct NodeSpec {
  std::string name;
  bool sgx_present = true;
  std::int64_t epc_capacity_bytes = 0;
  int epc_sections = 1;  // NUMA nodes; the capacity is split evenly between them
  // The kernel offers EPC accounting (misc cgroup sgx_epc) on this node: the plugin reports live
  // use and each holder's EPC. Elsewhere the extender must learn a pod's EPC from the scheduler.
  bool live_epc_known = false;
  // EPC used outside pods (aesmd, the PCE/QE enclaves); only visible where live use is known.
  std::int64_t host_epc_bytes = 0;
  std::uint32_t enclave_slots = 110;
  std::uint32_t provision_slots = 0;
};

// Twelve nodes from a 64 GiB Xeon down to the 93.5 MiB client parts, one without SGX.
std::vector<NodeSpec> default_fleet();

// What the fleet knows about one node now: the ground truth the extender should agree with.
struct NodeView {
  NodeSpec spec;
  std::vector<std::string> pods;  // "namespace/name"
  std::int64_t epc_requested_bytes = 0;
  std::int64_t enclave_slots_used = 0;
  std::int64_t provision_slots_used = 0;

  // Live use as the plugin reports it (host enclaves plus every pod's EPC); 0 where unknown.
  std::int64_t epc_live_used_bytes() const;
  // The extender's own formula (core::free_epc_bytes on this view as a core::NodeRow), with no
  // headroom: capacity − max(requested, live), floor 0.
  std::int64_t epc_free_bytes() const;
  // core::epc_used_bytes: max(requested, live), what the free figure leaves out.
  std::int64_t epc_in_use_bytes() const;
};

struct FleetStats {
  std::uint64_t snapshots_sent = 0;
  std::uint64_t changes_sent = 0;
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t acks_received = 0;
  // Real epc-device-plugin processes report (PluginFleet): the streams are theirs, so only the
  // snapshots (one per node) and the changes the demo caused (one Allocate each) are known.
  bool real_plugins = false;
};

// The simulated nodes. Each node is a device plugin with its own gRPC channel and its own
// NodeReports.Stream: a snapshot first, a heartbeat every `heartbeat_interval`, and a NodeChange
// whenever a pod lands on it. The messages are built by the plugin's own code from its NodeState
// value (deviceplugin/report: to_proto, diff_node_states). The stream itself is not the plugin's
// ReportStream: place() must know that the extender applied *its* change (the Ack of that
// message's sequence) before the next pod is scheduled, and must fail on a refused report, while
// ReportStream picks sequences on its own thread, exposes only the highest acknowledged one and
// retries refusals with a resync, as a plugin should. place() returns only after the extender
// acknowledged the change, i.e. once it is visible to filter/prioritize.
//
// Thread-safety: place(), views() and stats() from one thread (the player); heartbeats and Ack
// readers run on the fleet's own threads.
class Fleet final : public NodeFleet {
 public:
  struct Options {
    std::string grpc_target;  // "127.0.0.1:9090"
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds ack_timeout{5000};
    std::string plugin_version = "epc-demo-fleet/0.1.0";
  };

  // Connects every node, sends the snapshots and waits until all are acknowledged.
  static common::Result<std::unique_ptr<Fleet>> create(std::vector<NodeSpec> nodes,
                                                       Options options);
  ~Fleet() override;  // ends every stream (WritesDone, then Finish)
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Reports `pod` as a new slot holder on `node` (as the plugin learns through PodResources: with
  // namespace and name, no UID) and waits for the Ack. Returns the acknowledged sequence.
  common::Result<std::uint64_t> place(const std::string& node, const DemoPod& pod) override;

  std::vector<std::string> node_names() const override;
  std::vector<NodeView> views() const override;
  FleetStats stats() const override;

 private:
  class NodeLink;
  explicit Fleet(Options options);
  void heartbeat_loop();

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace epc::tools::demo
