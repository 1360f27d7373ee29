#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/sgx_resources.h"

namespace epc::core {

// What one container (or the pod overhead) lists for the SGX resources, already parsed to integers.
// An absent entry is nullopt, which differs from an explicit "0".
struct SgxAmounts {
  std::optional<std::int64_t> epc_bytes;
  std::optional<std::int64_t> enclave_slots;
  std::optional<std::int64_t> provision_slots;
};

struct ContainerResources {
  SgxAmounts requests;
  SgxAmounts limits;
  // An init container with restartPolicy: Always (a sidecar): it keeps running beside the app
  // containers, so its request adds to theirs.
  bool restartable = false;
};

// The resource-relevant parts of a pod spec. Views only: the caller owns the storage.
struct PodSpecResources {
  std::span<const ContainerResources> containers;
  std::span<const ContainerResources> init_containers;
  SgxAmounts overhead;  // spec.overhead
};

struct PodRequestOptions {
  // A pod that asks for EPC but lists no enclave slot still needs /dev/sgx_enclave: count one slot
  // (Intel's admission webhook performs the same mutation; we do not depend on it being installed).
  bool epc_implies_enclave_slot = true;
  // Other names read as EPC (with their unit) when a pod lists them instead of sgx.intel.com/epc.
  // The JSON decoders apply them (a container lists one of these or sgx.intel.com/epc; given both,
  // the last listed wins unless the alias is larger).
  std::vector<common::ResourceAlias> epc_aliases = common::default_epc_aliases();
};

// The pod's SGX demand on a node.
struct PodRequest {
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t provision_slots = 0;
  // The pod's CPU and memory requests (kube-scheduler's arithmetic), for scoring only: 0 when not
  // known (a pod from a report, not from the API or a scheduler request).
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;

  bool wants_sgx() const { return epc_bytes > 0 || enclave_slots > 0 || provision_slots > 0; }
  friend bool operator==(const PodRequest&, const PodRequest&) = default;
};

// kube-scheduler's own arithmetic (computePodResourceRequest), per resource:
//   effective(c)  = c.requests[r] if listed, else c.limits[r] if listed, else 0
//   sum           = Σ app containers + Σ restartable init containers
//   init_max      = max over regular init containers i of (effective(i) + Σ restartable init
//                   containers declared before i)
//   request[r]    = max(sum, init_max) + overhead[r]
// Saturates at INT64_MAX instead of overflowing.
PodRequest compute_pod_request(const PodSpecResources& pod, const PodRequestOptions& options);

}  // namespace epc::core
