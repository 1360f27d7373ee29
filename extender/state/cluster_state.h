#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "extender/core/ledger.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/result.h"
#include "extender/state/snapshot.h"

namespace epc::state {

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// ---------------------------------------------------------------------------------------------
// Report messages as core value types (extender/reports converts the protobuf into these).

struct EpcSectionInfo {
  std::int32_t numa_node = 0;
  std::int64_t size_bytes = 0;
};

struct SlotCount {
  std::int64_t total = 0;
  std::int64_t used = 0;
};

struct LiveEpc {
  bool known = false;
  std::int64_t used_bytes = 0;
};

struct HealthInfo {
  bool healthy = true;
  std::string reason;
};

// A node's full state (NodeReport.snapshot).
struct FullNodeState {
  bool sgx_present = false;
  std::int64_t epc_capacity_bytes = 0;
  std::vector<EpcSectionInfo> epc_sections;
  SlotCount enclave_slots;
  SlotCount provision_slots;
  LiveEpc live_epc;
  std::vector<core::SlotHolder> holders;
  HealthInfo health;
};

// What changed (NodeReport.change); nullopt = unchanged.
struct NodeStateChange {
  std::optional<SlotCount> enclave_slots;
  std::optional<SlotCount> provision_slots;
  std::optional<LiveEpc> live_epc;
  std::optional<HealthInfo> health;
  std::vector<core::SlotHolder> holders_upserted;
  std::vector<std::string> holders_removed;  // "namespace/name"
};

struct Heartbeat {};

struct ReportMessage {
  std::string node_name;
  std::string instance_id;
  std::uint64_t sequence = 0;
  std::string plugin_version;
  std::variant<FullNodeState, NodeStateChange, Heartbeat> body;
};

// ---------------------------------------------------------------------------------------------

// The extender's picture of the cluster: the latest report per node and the ledger of SGX pods.
//
// Threading: one internal writer thread owns all mutable state and applies queued updates in
// batches, then publishes a new immutable Snapshot. Readers (HTTP threads) call snapshot(), which
// never waits for the writer. All public methods are thread-safe.
class ClusterState {
 public:
  struct Options {
    std::size_t request_memory_pods = 100000;  // remembered scheduler requests (bounded)
    // Called on the writer thread after each publication and before the acknowledgements of the
    // messages in it (metrics refresh: an Ack then implies /metrics shows the report). May be empty.
    std::function<void(const Snapshot&)> on_publish;
  };

  static std::unique_ptr<ClusterState> create(Options options);
  virtual ~ClusterState() = default;

  // The newest published snapshot. Never null (empty before the first report).
  virtual SnapshotPtr snapshot() const = 0;

  using ApplyDone = std::function<void(core::Result<std::uint64_t>)>;

  // Queues one report message for the writer. `done` runs on the writer thread once a snapshot that
  // includes the message is published, with the applied sequence, or with an error (a change before
  // any snapshot of this instance, a sequence from an older instance, …). Never blocks: gRPC
  // callback threads call it.
  virtual void apply_async(ReportMessage message, ApplyDone done) = 0;

  // Blocking convenience over apply_async (tests, tools).
  core::Result<std::uint64_t> apply(ReportMessage message);

  // The stream of (node, instance) ended. The node keeps its last state (it goes stale by age).
  virtual void stream_closed(const std::string& node_name, const std::string& instance_id) = 0;

  // Remembers the SGX demand the scheduler showed for a pod. Never blocks on report ingestion:
  // queued for the writer. Repeated notes for the same pod and demand are cheap.
  virtual void note_pod_request(const core::PodKey& pod, const core::PodRequest& request) = 0;

  // Blocks until every update queued before this call is published (tests, orderly shutdown).
  virtual void flush() = 0;
};

}  // namespace epc::state
