#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "extender/core/pod_request.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// The pod shape of `GET /capacity?epc=512Mi&enclaves=1&provision=0` (the query string without the
// '?'). `epc` is a Kubernetes quantity; `enclaves` defaults to 1 when EPC is asked for (a pod with
// EPC needs /dev/sgx_enclave), else 0; `provision` defaults to 0. Errors name the parameter.
common::Result<core::PodRequest> parse_capacity_query(std::string_view query);

// What still fits of `shape` right now, as JSON (core::CapacityCounter over every node):
//
//   {"shape":{"epcBytes":536870912,"enclaveSlots":1,"provisionSlots":0},
//    "pods":12,"nodesWithRoom":3,"strandedEpcBytes":104857600,
//    "nodes":[{"node":"sgx-a","pods":7,"freeEpcBytes":3758096384},...]}
//
// `nodes` lists the nodes that take at least one more, most first (then by name). Stranded EPC is
// the free EPC of trusted nodes that cannot take one more of this shape.
void capacity(const core::PodRequest& shape, const state::ClusterSnapshot& snapshot,
              const HandlerSettings& settings, std::int64_t now_ns, std::string& out);

// {"error":"<message>"}.
void write_capacity_error(std::string_view message, std::string& out);

}  // namespace epc::http::handlers
