#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "extender/core/fit.h"
#include "extender/core/ledger.h"
#include "extender/core/pod_request.h"

namespace epc::state {

// What the Kubernetes API watch (extender/kube) sends the state writer: plain values, decoded and
// reduced at the boundary so that no JSON reaches the writer. Only SGX pods are sent one by one; a
// pod that stops being one (or is unknown) arrives as a delete of its UID. Of the other pods the
// writer sees only their sums per node (NodeCpuMemoryRequested).

// The CPU and memory requested on one node by every pod bound to it (SGX or not, not Succeeded or
// Failed), as kube-scheduler's NodeResourcesFit sums them. Absolute totals, not deltas: a repeated
// or reordered message cannot drift them.
struct NodeCpuMemoryRequested {
  std::string node;
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t pods = 0;  // how many pods the totals sum (0: the node has none)
  friend bool operator==(const NodeCpuMemoryRequested&, const NodeCpuMemoryRequested&) = default;
};

// A batch of pod changes, in watch order. With `replace` the batch is a complete relist: every
// SGX pod the API has, and API pods missing from it are gone.
//
// `node_requested` carries the per-node CPU/memory totals the batch's event(s) moved (an event of a
// pod without SGX sends a batch with only these). With `replace` it is every node with a bound pod,
// and a node missing from it has none. The totals travel in the same batch as the SGX pod
// changes, so no snapshot shows one without the other.
struct ApiPodBatch {
  bool replace = false;
  std::vector<core::ApiPod> upserts;  // replace: the whole list; else ADDED/MODIFIED
  std::vector<std::string> deleted_uids;
  std::vector<NodeCpuMemoryRequested> node_requested;
};

// A node as the API shows it: what Intel's stack (NFD, its device plugin) advertises and whether
// the kubelet says the node is Ready.
enum class NodeReadiness : std::uint8_t { kNoCondition, kReady, kNotReady };

struct ApiNode {
  std::string name;
  std::optional<std::int64_t> epc_bytes;  // allocatable sgx.intel.com/epc (bytes)
  std::optional<std::int64_t> enclave_slots;
  std::optional<std::int64_t> provision_slots;
  // Allocatable cpu (millicores) and memory (bytes): what kube-scheduler's NodeResourcesFit
  // measures requests against.
  std::optional<std::int64_t> cpu_allocatable_milli;
  std::optional<std::int64_t> memory_allocatable_bytes;
  NodeReadiness readiness = NodeReadiness::kNoCondition;
  bool unschedulable = false;

  bool advertises_sgx() const {
    return epc_bytes.value_or(0) > 0 || enclave_slots.value_or(0) > 0 ||
           provision_slots.value_or(0) > 0;
  }
  friend bool operator==(const ApiNode&, const ApiNode&) = default;
};

// With `replace`: the whole node list (nodes missing from it are gone).
struct ApiNodeBatch {
  bool replace = false;
  std::vector<ApiNode> upserts;
  std::vector<std::string> deleted;
};

enum class ApiResource : std::uint8_t { kPods, kNodes };

// The state of one list+watch. `synced`: a full list has been applied (readiness waits for both).
// `watching`: the watch stream is open now (freshness of API-only nodes, expiry of reservations).
struct ApiSourceStatus {
  ApiResource resource = ApiResource::kPods;
  bool synced = false;
  bool watching = false;
};

// kube-scheduler asks the extender to bind `pod` to `node` (the bind verb).
struct BindRequest {
  core::PodKey pod;  // uid from the request (PodUID)
  std::string node;
};

// The writer's answer to a bind: what it reserved, or why the pod no longer fits the node.
struct BindReservation {
  core::PodRequest request;
  bool already_placed = false;  // the API (or an earlier bind) has it on that node already
  std::optional<core::FitResult> refused;  // set: nothing was reserved (the bind must fail)
};

}  // namespace epc::state
