#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace epc::http::codec {

// A pod's CPU and memory requests, as kube-scheduler's NodeResourcesFit counts them. The core's
// compute_pod_request does the same arithmetic for the SGX resources only; CPU and memory are
// computed here, beside the one pod decoder both the kube-scheduler requests and the API watch
// use, so that every pod is counted alike.

// The cpu and memory entries of one ResourceList (a container's requests or limits, the pod's
// overhead, its pod-level requests). nullopt: not listed, which differs from an explicit "0".
struct CpuMemoryAmounts {
  std::optional<std::int64_t> cpu_milli;
  std::optional<std::int64_t> memory_bytes;
};

struct CpuMemory {
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  friend bool operator==(const CpuMemory&, const CpuMemory&) = default;
};

// kube-scheduler's PodRequests (k8s.io/component-helpers/resource), per resource r:
//   effective(c)  = c.requests[r] if listed, else c.limits[r] if listed, else 0
//                   (the API server defaults a missing request to its limit, so objects read from
//                   it carry the request; the fallback covers hand-written bodies)
//   sum           = Σ app containers + Σ restartable init containers (sidecars)
//   init_max      = max over regular init containers i of (effective(i) + Σ sidecars declared
//                   before i)
//   request[r]    = spec.resources.requests[r] if listed (pod-level resources, KEP-2837), else
//                   max(sum, init_max); then + spec.overhead[r]
// Saturates at INT64_MAX; negative amounts count as 0 (the decoder refuses them anyway).
//
// Fed container by container while the decoder walks the pod, so it keeps no storage per
// container (the decoder allocates nothing per request): a containers or initContainers list
// replaces what an earlier, repeated key of the same name gave, as in Go; the overhead and
// pod-level amounts are written in place (a repeated map key merges, as Go decodes into a map).
class CpuMemoryRequest {
 public:
  void clear() { *this = CpuMemoryRequest{}; }

  void begin_containers() { app_ = {}; }
  void add_container(const CpuMemoryAmounts& requests, const CpuMemoryAmounts& limits);
  // Init containers must be added in declaration order (a sidecar adds to the ones after it).
  void begin_init_containers();
  void add_init_container(const CpuMemoryAmounts& requests, const CpuMemoryAmounts& limits,
                          bool restartable);
  CpuMemoryAmounts& overhead() { return overhead_; }          // spec.overhead
  CpuMemoryAmounts& pod_requests() { return pod_requests_; }  // spec.resources.requests

  CpuMemory total() const;

 private:
  CpuMemory app_;       // Σ app containers
  CpuMemory sidecars_;  // Σ restartable init containers so far
  CpuMemory init_max_;  // max over regular init containers of (own + sidecars before)
  CpuMemoryAmounts overhead_;
  CpuMemoryAmounts pod_requests_;
};

// A cpu quantity in millicores, as Kubernetes' MilliValue() (finer precision rounds up): "15890m"
// → 15890, "16" → 16000, "0.5" → 500. Memory in bytes, as Value() (a fraction of a byte rounds
// up): "64Gi", "131072Ki", "1.5G", "1e9". A quantity beyond int64 saturates at INT64_MAX (the API
// server accepts such values; no node has that much, so it simply never fits); text that is no
// quantity is an error. Allocation-free unless it fails.
common::Result<std::int64_t> parse_cpu_milli(std::string_view text);
common::Result<std::int64_t> parse_memory_bytes(std::string_view text);

}  // namespace epc::http::codec
