#pragma once

#include <span>
#include <string>

#include "tools/demo/demo_workload.h"

namespace epc::tools::demo {

// Pod metadata that the API server fills in, not the workload.
struct PodServerFields {
  std::string creation_timestamp;  // RFC 3339, UTC ("2026-11-26T17:47:07Z")
  std::string resource_version;
};

// The body kube-scheduler POSTs to <prefix>/filter and <prefix>/prioritize with nodeCacheCapable:
// ExtenderArgs with Go's field names (PascalCase, no omitempty: "Nodes" is null), the pod in the
// API's own lower-camel JSON as the informer cache holds it (tests/data/kube-scheduler/ has
// recorded ones).
std::string extender_args_json(const DemoPod& pod, const PodServerFields& server,
                               std::span<const std::string> node_names);

// The current time in the API's timestamp format.
std::string rfc3339_now();

}  // namespace epc::tools::demo
