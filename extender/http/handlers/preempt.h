#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "extender/http/codec/preempt_args.h"
#include "extender/http/handlers/handler_settings.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::handlers {

// The preempt verb (spec/extender-api.md §4.4) as a plain function of the decoded request and one
// state snapshot. Writes the ExtenderPreemptionResult into `reply` (replacing its content):
//
//   {"NodeNameToMetaVictims":{"<node>":{"Pods":[{"UID":"<uid>"},...],"NumPDBViolations":N},...}}
//
// For each candidate node, core::select_victims keeps the fewest, least important victims whose
// eviction lets the preemptor fit by EPC and enclave/provision slots, and the node is left out
// when no victim set helps (an empty map tells kube-scheduler that no preemption is possible).
// What each proposed victim frees comes from the snapshot's pod table (state::PodTable):
//  - a UID the table has on that node is an SGX victim with the table's request and priority (the
//    table holds what the node's row counts for it, so releasing it lowers the row consistently);
//  - otherwise, in non-cache mode, a victim whose own v1.Pod lists SGX resources is an SGX victim
//    with the request and priority decoded from that pod;
//  - anything else is a non-SGX victim: kube-scheduler chose it for its own resources, it is kept
//    as proposed and frees nothing we count.
// A node the snapshot does not know has never reported and is left out, like an untrusted one
// (stale, unhealthy, without SGX). A preemptor that asks for no SGX resource is none of our
// business, as in filter: its proposals are returned unchanged, whatever the node.
//
// An entry without victims ("Pods": [] or null, newer schedulers, spec §4.4) is a node that
// kube-scheduler's own filters pass without eviction. If the preemptor fits our resources there
// too, nothing of ours blocks it and the node is left out (a returned node needs a victim).
// Otherwise the candidates are the table's bound pods on that node with a lower priority than the
// preemptor's, least important first (ties: the table's order), and select_victims picks from them.
//
// Only UIDs the request sent, or for victim-less entries pods the table has on that node, are ever
// returned; every returned node has at least one; NumPDBViolations is echoed as sent (we do not see
// PodDisruptionBudgets). Node names and UIDs are JSON-escaped.
//
// Never throws on any input. Allocates a few small working vectors per call: preempt runs once per
// failed scheduling attempt, not per node of a filter. Thread-safety: reads only the immutable
// snapshot; `reply` belongs to the caller.
//
// Returns how many nodes and victims the reply holds (for the metrics).
struct PreemptSummary {
  std::uint32_t nodes = 0;
  std::uint32_t victims = 0;
};
PreemptSummary preempt(const codec::PreemptArgsView& args, const state::ClusterSnapshot& snapshot,
                       const HandlerSettings& settings, std::int64_t now_ns, std::string& reply);

// The preempt reply for a request that could not be decoded: codec::write_preempt_error, i.e.
// {"NodeNameToMetaVictims":{},"Error":"<message>"} (no preemption possible, and why).
inline void write_preempt_error(std::string_view message, std::string& reply) {
  codec::write_preempt_error(message, reply);
}

}  // namespace epc::http::handlers
