#pragma once

#include <string>

#include "common/result.h"
#include "extender/http/codec/padded_buffer.h"

namespace epc::http::codec {

// ExtenderBindingArgs (the bind request body, spec/extender-api.md §3):
//   {"PodName":"…","PodNamespace":"…","PodUID":"…","Node":"…"}
// Keys match ASCII-case-insensitively as in Go; unknown keys are ignored. Name, namespace and node
// must be present and non-empty.
struct BindArgs {
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string node;
};

common::Result<BindArgs> decode_bind_args(const PaddedBuffer& body);

}  // namespace epc::http::codec
