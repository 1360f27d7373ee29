#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/sgx_resources.h"
#include "extender/core/pod_request.h"
#include "extender/http/codec/cpu_memory_request.h"
#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/json_reader.h"

namespace epc::http::codec {

// What the extender reads from ExtenderArgs.Pod: who the pod is, the SGX resources its containers
// list (input to core::compute_pod_request) and its CPU and memory requests (summed while the
// containers are read). Views point into the parsed text. clear() keeps the vectors' capacity, so
// a warmed-up decoder allocates nothing here.
struct PodFields {
  bool present = false;  // false: the Pod was null or absent
  PodIdentity identity;
  std::vector<core::ContainerResources> containers;
  std::vector<core::ContainerResources> init_containers;
  core::SgxAmounts overhead;
  CpuMemoryRequest cpu_memory;  // spec cpu/memory: containers, init containers, overhead, pod level

  // Where the pod stands, read only with PodDecodeOptions::placement (API objects, the preemptor).
  std::string_view node_name;         // spec.nodeName; empty while unbound
  std::string_view phase;             // status.phase
  std::string_view resource_version;  // metadata.resourceVersion
  bool deleting = false;              // metadata.deletionTimestamp is set
  std::int32_t priority = 0;          // spec.priority (0 when absent, as the API defaults it)

  void clear() {
    present = false;
    identity = {};
    containers.clear();
    init_containers.clear();
    overhead = {};
    cpu_memory.clear();
    node_name = {};
    phase = {};
    resource_version = {};
    deleting = false;
    priority = 0;
  }
};

struct PodDecodeOptions {
  // Other resource names read as EPC, with their unit (core::PodRequestOptions::epc_aliases).
  std::span<const common::ResourceAlias> epc_aliases;
  // Also read the placement fields of PodFields (skipped otherwise: the filter path needs none).
  bool placement = false;
};

// Decodes one v1.Pod value (object or null) into `out`, replacing what it held: Go keeps the last
// of repeated keys. Keys match ASCII-case-insensitively, resource names exactly; unknown keys are
// skipped. On false, reader.error() says why, naming the container and resource at fault for a
// bad or negative quantity.
bool decode_pod(ondemand::value& value, JsonReader& reader, PodFields& out,
                const PodDecodeOptions& options = {});

// The decoded pod's demand: its SGX resources (core::compute_pod_request) and its CPU and memory
// requests (CpuMemoryRequest), computed once per request. No allocation.
core::PodRequest pod_request(const PodFields& pod, const core::PodRequestOptions& options);

}  // namespace epc::http::codec
