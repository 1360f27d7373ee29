#pragma once

#include <vector>

#include "extender/core/pod_request.h"
#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/json_reader.h"

namespace epc::http::codec {

// What the extender reads from ExtenderArgs.Pod: who the pod is and the SGX resources its
// containers list (input to core::compute_pod_request). Views point into the parsed text.
// clear() keeps the vectors' capacity, so a warmed-up decoder allocates nothing here.
struct PodFields {
  bool present = false;  // false: the Pod was null or absent
  PodIdentity identity;
  std::vector<core::ContainerResources> containers;
  std::vector<core::ContainerResources> init_containers;
  core::SgxAmounts overhead;

  void clear() {
    present = false;
    identity = {};
    containers.clear();
    init_containers.clear();
    overhead = {};
  }
};

// Decodes one v1.Pod value (object or null) into `out`, replacing what it held: Go keeps the last
// of repeated keys. Keys match ASCII-case-insensitively, resource names exactly; unknown keys are
// skipped. On false, reader.error() says why, naming the container and resource at fault for a
// bad or negative quantity.
bool decode_pod(ondemand::value& value, JsonReader& reader, PodFields& out);

}  // namespace epc::http::codec
