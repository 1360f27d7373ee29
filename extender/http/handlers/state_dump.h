#pragma once

#include <cstdint>
#include <string>

#include "extender/http/handlers/handler_settings.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// `GET /state`: the cluster as this extender accounts it, for `epcctl snapshot` (what-if runs of
// epc-sim on the real state) and for a person debugging a placement:
//
//   {"epcHeadroomBytes":0,
//    "nodes":[{"node":"sgx-a","trusted":true,"reportAgeMs":812,
//              "epcCapacityBytes":68719476736,"epcRequestedBytes":4294967296,
//              "epcLiveUsedBytes":null,"epcFreeBytes":64424509440,
//              "enclaveSlots":{"total":110,"used":3},"provisionSlots":{"total":10,"used":0},
//              "cpuMilli":{"allocatable":15890,"requested":2100},
//              "memoryBytes":{"allocatable":66893012992,"requested":4294967296},
//              "pods":3},
//             {"node":"sgx-b","trusted":false,"why":"EPC report too old",...}],
//    "podShapes":[{"epcBytes":1073741824,"enclaveSlots":1,"provisionSlots":0,"pods":3}],
//    "podsWithUnknownEpc":0}
//
// Nodes in table order; `why` (fit_reason_text of core::node_trust) only on untrusted nodes;
// epcLiveUsedBytes is null where the node's kernel does not account live EPC; cpuMilli and
// memoryBytes (the node's allocatable and what all pods bound to it request, from the API watch)
// only where NodeRow::cpu_memory_known. podShapes groups the
// SGX pods the ledger counts (bound or reserved) by request, most pods first; pods whose EPC no
// source knows are only counted in podsWithUnknownEpc. The pod figures come from the snapshot's pod
// table, which may trail the node rows by its rebuild interval (docs/metrics.md).
void state_dump(const state::ClusterSnapshot& snapshot, const HandlerSettings& settings,
                std::int64_t now_ns, std::string& out);

}  // namespace epc::http::handlers
