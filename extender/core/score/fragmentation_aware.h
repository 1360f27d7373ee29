#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "extender/core/node_row.h"
#include "extender/core/pod_mix.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

// FragmentationAware places a pod where it least increases the EPC that the expected next pods
// cannot use (after Weng et al., "Beware of Fragmentation", USENIX ATC '23, with one EPC pool per
// node in place of GPUs).
//
// Details: for a node with f bytes of free EPC and q free enclave slots, and a mix of shapes m
// (EPC s_m > 0, slots k_m, decayed count w_m), the expected fragment is
//   F(f, q) = Σ_m p_m · f · [s_m > f  or  k_m > q],   p_m = w_m · s_m / Σ_j w_j · s_j
// i.e. the free EPC weighted by the chance that the next byte of EPC demand belongs to a pod that
// cannot use any of it. FGD weights shapes by their share of the pods; we weight them by their
// share of the EPC demand, because bytes are what goes unallocated: a rare 80 GiB shape is 0.2 %
// of openb's pods but 2 % of its EPC, and its holes are worth keeping accordingly (measured in
// docs/bin-packing.md: 3.74 % unallocated and 304 churn rejections, against 3.99 % and 358 when
// weighting by pods). Placing a pod
// (s, k) changes it by Δ = F(f − s, q − k) − F(f, q); the policy prefers the smallest Δ. Δ < 0 when
// the pod fills a hole that the mix could not use anyway (a tight fit), Δ > 0 when it leaves a
// hole too small for the common shapes, Δ = 0 on nodes that stay roomy for every shape. Ties on Δ
// (typically among roomy nodes) go to the node the pod fits most tightly (BestFit's EPC score), so
// large holes are kept for large pods.
//
// Fresh nodes last: while some node that already holds a pod can take this one, nodes holding none
// rank below every such node. The measure is per node, so cutting into a fresh node, whose hole
// only the rare whole-node shapes need, looks cheaper than cutting into a used node's hole that the
// common shapes need; measure alone, FragmentationAware opened fresh nodes until none was left and
// rejected its first pod that fits an empty node at 54 % arrived on openb (BestFit: 98.6 %). With
// the rule: 94 % (docs/bin-packing.md). It gives up the cases where opening a node early would
// have kept a hole for a later pod (4, 4, 6, 6 GiB on two 10 GiB nodes).
//
// The raw score packs both keys into one integer, higher is better:
//   raw = kFragmentationOffset − round(Δ / 1 KiB) · 2^20 + best_fit_score(s, f)   (0..10^6 < 2^20)
// plus 2^54 on a node that holds a pod. Δ is clamped to ±2^31 KiB (2 TiB), so raw is always
// positive. Δ is rounded to KiB so that
// floating-point noise cannot outvote the tie-break. The batch function (used by score_nodes)
// subtracts the lowest candidate's raw − 1 so that the 0..10 mapping spreads over the candidates'
// range instead of the constant offset: the candidates' order is unchanged and the best keeps 10;
// with a used candidate, fresh ones score 0 and the range spreads over the used ones.
//
// The mix comes from ScoreContext::mix (the extender's PodMix of recent pods); without one, the pod
// itself is the mix. ScoreContext::weights are not used: slots enter through F's usability test.
inline constexpr std::int64_t kFragmentationOffset = std::int64_t{1} << 52;

// A PodMix turned into what scoring reads: shapes sorted by EPC with the probability of each shape
// and of all larger ones, so F costs one short search per node. Fixed storage, no allocation.
class MixDistribution {
 public:
  // The mix's shapes with their EPC-weighted probabilities p_m (above). An empty mix (or one with
  // no weight left) yields an empty distribution.
  static MixDistribution from_mix(const PodMix& mix);
  // A one-shape distribution: the pod itself, probability 1.
  static MixDistribution single(const PodRequest& pod);

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  // F(f, q) above.
  double expected_fragment(std::int64_t free_epc, std::int64_t free_slots) const;

 private:
  std::array<std::int64_t, PodMix::kMaxShapes> epc_{};    // ascending
  std::array<std::int64_t, PodMix::kMaxShapes> slots_{};  // same order
  std::array<double, PodMix::kMaxShapes> probability_{};
  // larger_or_equal_[i] = Σ_{j >= i} probability_[j]; one extra 0 entry at size_.
  std::array<double, PodMix::kMaxShapes + 1> larger_or_equal_{};
  std::size_t size_ = 0;
  std::int64_t max_slots_ = 0;
};

// Δ above for placing `pod` on `node` (bytes; negative = the placement removes fragment).
double fragmentation_delta(const PodRequest& pod, const NodeRow& node,
                           const NodeAccounting& accounting, const MixDistribution& mix);

// Raw score (kFragmentationOffset ± ...) for one node, for callers that compare nodes directly.
std::int64_t fragmentation_aware_raw(const PodRequest& pod, const NodeRow& node,
                                     const ScoreContext& context);

// Raw scores for every node (null entries score 0), shifted so the lowest candidate scores 1.
// No allocation.
void fragmentation_aware_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                              const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
