#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "extender/http/codec/extender_args.h"
#include "extender/http/handlers/handler_scratch.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// The filter verb (spec/extender-api.md §4.1) as a plain function of the decoded request and one
// state snapshot. Writes the ExtenderFilterResult into `reply` (cleared first):
//
//   {"Nodes":<null | {"metadata":{},"items":[<surviving Node objects, verbatim>]}>,
//    "NodeNames":[<surviving names>],"FailedNodes":{name: reason},
//    "FailedAndUnresolvableNodes":{name: reason},"Error":""}
//
// - Every candidate node is checked with core::fit against its snapshot row. A name the snapshot
//   does not know has never reported: it is unresolvable ("no EPC report from node").
// - Failures that preemption could fix go to FailedNodes, the rest (fit's `unresolvable`) to
//   FailedAndUnresolvableNodes, each with a fixed reason text (fit_reason_text).
// - NodeNames is always an array, also in full-Nodes mode (a null NodeNames rejects every node).
// - A pod that asks for no SGX resource passes every node.
// - One-round-trip mode (settings.filter_top_k = k > 0): when more than k nodes fit, only the k
//   with the best raw policy score are returned (ties by core::score::select_top_k's rule, salted
//   by the pod's UID); the others are left out of the reply with no reason, since they fit and
//   are merely not chosen. Failed nodes keep their reasons as always, so when no node fits every
//   node is listed with its real reason (kubectl describe, preemption). Both node modes.
//
// No allocation per node once `scratch` and `reply` have grown to the request's size.
void filter(const codec::ExtenderArgsView& args, const state::ClusterSnapshot& snapshot,
            const HandlerSettings& settings, std::int64_t now_ns, HandlerScratch& scratch,
            std::string& reply);

// The filter reply for a request that could not be answered (malformed body, bad quantity, ...):
// nothing passes and `message` is in Error, which makes kube-scheduler fail the attempt visibly.
void write_filter_error(std::string_view message, std::string& reply);

}  // namespace epc::http::handlers
