#pragma once

#include <cstdint>
#include <string>

#include "extender/http/codec/extender_args.h"
#include "extender/http/handlers/handler_scratch.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// The prioritize verb (spec/extender-api.md §4.2) as a plain function of the decoded request and
// one state snapshot. Writes a bare HostPriorityList into `reply` (cleared first):
//
//   [{"Host":"node-a","Score":7},{"Host":"node-b","Score":0},...]
//
// One entry per candidate host, in request order, integer scores 0..10. Nodes that fit the pod are
// scored together by the configured policy (core::score::score_nodes: best fitting node = 10);
// nodes that do not fit, or that the snapshot does not know, get 0. A pod that asks for no SGX
// resource gets 0 everywhere (this extender has no opinion about it).
//
// FragmentationAware scores against the recent pod mix the snapshot carries (the state writer keeps
// it from the routes' observations) with this pod added to a local copy: the pod being placed is
// part of the mix it is scored against, whether or not the writer has seen it yet. Nothing here
// writes shared state: the snapshot is immutable, scratch and reply belong to the connection.
void prioritize(const codec::ExtenderArgsView& args, const state::ClusterSnapshot& snapshot,
                const HandlerSettings& settings, std::int64_t now_ns, HandlerScratch& scratch,
                std::string& reply);

// The prioritize reply for a request that could not be answered: an empty list. kube-scheduler
// ignores prioritize errors of every kind, so "[]" (no opinion) is the honest answer.
void write_prioritize_error(std::string& reply);

}  // namespace epc::http::handlers
