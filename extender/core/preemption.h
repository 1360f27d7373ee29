#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "extender/core/fit.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

namespace epc::core {

// One pod kube-scheduler proposes to evict from a node (a victim of its preemption dry run).
struct VictimCandidate {
  // An SGX pod whose eviction frees `release` on this node. false: a pod we know nothing about
  // (kube-scheduler chose it for CPU, memory or another resource of its own); it frees nothing we
  // count and `release` is ignored.
  bool sgx = false;
  std::int32_t priority = 0;  // spec.priority: a higher value is more important
  PodRequest release;         // what evicting it gives back (negative amounts count as 0)
};

// The preempt verb's decision for one candidate node (spec/extender-api.md §4.4): which of the
// proposed victims to keep so that the preemptor fits by EPC and enclave/provision slots, evicting
// the fewest and least important SGX pods. "Fits" is core::fit, the same test filter applies, on a
// copy of `row` where the released amounts are taken off epc_requested_bytes,
// epc_live_used_bytes, enclave_slots_used and provision_slots_used (each saturating at 0; live use
// is lowered by the same amount as requested, since an evicted enclave's pages leave with it).
//
// Rules, in order:
//  0. A preemptor that asks for no SGX resource fits every node (as in filter): rule 2 applies.
//  1. A node whose report is not trusted (core::node_trust at context.now_ns) is dropped: its
//     numbers cannot justify evicting anybody.
//  2. If the preemptor already fits without any eviction, our resources are not what blocks it:
//     every candidate is kept as proposed. With no candidate the node is dropped (kube-scheduler
//     refuses a returned node without a victim).
//  3. If it does not fit even with every SGX candidate evicted, the node is dropped.
//  4. Otherwise kube-scheduler's own reprieve: SGX candidates are visited from the most important
//     (higher priority first; on equal priority the earlier in `candidates`) and each is put back
//     if the preemptor still fits without evicting it. The SGX candidates not put back are kept.
//     Non-SGX candidates are always kept: kube-scheduler's own filters chose them and we cannot
//     judge them. An empty result drops the node.
//
// Returns false when the node must be dropped (`kept` is then empty). Otherwise `kept` holds the
// indexes into `candidates` of the victims to evict, in `candidates`' order, at least one.
//
// `kept` is cleared first; nothing else is allocated (the reprieve order is sorted inside `kept`),
// so a reused vector makes the call allocation-free. Amounts are summed in 128 bits: no victim
// list can overflow them.
bool select_victims(const NodeRow& row, const FitContext& context, const PodRequest& preemptor,
                    std::span<const VictimCandidate> candidates, std::vector<std::size_t>& kept);

}  // namespace epc::core
