#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// Reader for Alibaba's openb GPU-cluster trace (cluster-trace-gpu-v2023: openb_node_list_*.csv and
// openb_pod_list_*.csv), mapped onto SGX as docs/sim-input.md describes. GPU columns are ignored.
//
// Columns are found by header name, so extra or reordered columns are fine. Blank lines (e.g. a
// trailing one) and CRLF line ends are accepted; fields are plain (no quoting), as in the trace.
// Every error names the source, the line and, for a bad value, the column.
//
// The functions are pure (no shared state) and safe to call from any thread; nothing throws.

// The largest values a row may carry. They are far above any machine (the trace's largest row asks
// for 720 GiB) and stop a typo or a unit mistake from turning into an overflow downstream.
inline constexpr std::int64_t kOpenbMaxMemoryMib = std::int64_t{1} << 30;  // 1 PiB
inline constexpr std::int64_t kOpenbMaxCpuMilli = std::int64_t{1} << 40;   // ~1.1 billion cores
static_assert(kOpenbMaxMemoryMib <= INT64_MAX / (std::int64_t{1} << 20),
              "the largest memory_mib must convert to bytes without overflow");

// How a GPU-cluster row becomes an SGX node or pod. The defaults are the project's mapping: a node
// gets 1/8 of its memory as EPC and a pod asks for 1/4 of its memory, so the pod list's EPC demand
// is twice its memory demand relative to the cluster, and EPC is the resource that binds.
struct OpenbMapping {
  // node EPC = floor(memory_mib / node_epc_divisor) MiB
  std::int64_t node_epc_divisor = 8;
  // pod EPC = max(floor(memory_mib / pod_epc_divisor), pod_min_epc_mib) MiB. The floor keeps a pod
  // that asks for no memory an SGX pod (the trace has one).
  std::int64_t pod_epc_divisor = 4;
  std::int64_t pod_min_epc_mib = 1;
  std::int64_t node_enclave_slots = 110;
  std::int64_t node_max_pods = 110;  // kubelet's default maxPods
  std::int64_t pod_enclave_slots = 1;
};

// Nodes from a node list (columns sn, cpu_milli, memory_mib). `source` names the input in errors.
// An empty list, a duplicate `sn` or a bad mapping is an error.
common::Result<std::vector<SimNode>> read_openb_nodes(std::istream& in, const OpenbMapping& mapping,
                                                      std::string_view source = "openb node list");

// Pods from a pod list (columns name, cpu_milli, memory_mib; creation_time and deletion_time are
// optional). lifetime_s = deletion_time - creation_time (seconds) when both are given and
// deletion_time >= creation_time, otherwise -1. An empty list or a bad mapping is an error.
common::Result<std::vector<SimPod>> read_openb_pods(std::istream& in, const OpenbMapping& mapping,
                                                    std::string_view source = "openb pod list");

// The same, from a file; a file that cannot be opened is an error naming it.
common::Result<std::vector<SimNode>> read_openb_nodes(const std::string& path,
                                                      const OpenbMapping& mapping);
common::Result<std::vector<SimPod>> read_openb_pods(const std::string& path,
                                                    const OpenbMapping& mapping);

}  // namespace epc::tools::sim
