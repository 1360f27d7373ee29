#pragma once

#include <cstdint>
#include <span>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

// StrandingAware is BestFit that also refuses to strand EPC behind a node's CPU or memory.
//
// EPC is stranded on a node when its CPU or memory runs out first: the free EPC is there, but no
// pod can use it. Per node, with free fractions e (EPC), c (CPU) and m (memory) of what it can
// hold, the stranded share is
//   S(e, c, m) = max(0, e − min(c, m)),
// the part of the node's EPC that is free beyond what its remaining CPU and memory could carry in
// the node's own proportions. Placing the pod changes it by ΔS = S(after) − S(before): negative
// when an EPC-heavy pod uses EPC that the node's CPU or memory would leave idle, positive when a
// CPU- or memory-heavy pod eats the CPU that the node's free EPC needs. The score is
//   s = (2 + b − ΔS) / 4   in 0..1,   raw = round(s · kBestFitScale)
// with b = BestFit's EPC score as a fraction (request / free EPC). The two terms weigh alike (no
// fitted factor); the offset keeps s ≥ 0 for normalisation. Measured in docs/bin-packing.md: on
// openb and on three mixes built from it it left less EPC unallocated than BestFit and than
// kube-scheduler's MostAllocated over CPU, memory and EPC, and rejected no more pods under churn.
//
// CPU and memory come from NodeRow's API fields. Where they are not known (no API watch, a node
// the API has not listed, or a pod without EPC) the raw score is BestFit's, so the policy is
// BestFit until the extender learns them. ScoreContext::weights apply to that fallback only.
std::int64_t stranding_aware_raw(const PodRequest& pod, const NodeRow& node,
                                 const ScoreContext& context);

// S above for the node as it is, 0..1 (0 when CPU and memory are not known).
double stranded_share(const NodeRow& node, const NodeAccounting& accounting);

// stranding_aware_raw for every node (null entries score 0); no allocation.
void stranding_aware_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                          const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
