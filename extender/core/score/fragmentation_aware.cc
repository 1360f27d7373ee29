#include "extender/core/score/fragmentation_aware.h"

#include <algorithm>
#include <cmath>

#include "extender/core/checked_math.h"
#include "extender/core/score/best_fit.h"

namespace epc::core::score {
namespace {

constexpr double kKiB = 1024.0;
constexpr double kMaxDeltaKiB = 2147483648.0;  // 2^31 KiB = 2 TiB: beyond any node's EPC
constexpr int kTieBreakBits = 20;              // best_fit_score <= 10^6 < 2^20

// Above every fragment key (< 2^53): a node some pod already uses outranks every fresh one (see
// the header: fresh nodes last).
constexpr std::int64_t kEligibleBonus = std::int64_t{1} << 54;

struct NodeFree {
  std::int64_t epc = 0;
  std::int64_t slots = 0;
  bool opened = false;  // some pod holds EPC or an enclave slot here
};

NodeFree node_free(const NodeRow& node, const NodeAccounting& accounting) {
  return {free_epc_bytes(node, accounting), free_enclave_slots(node),
          epc_used_bytes(node) > 0 || node.enclave_slots_used > 0};
}

inline double delta_impl(const PodRequest& pod, NodeFree free, const MixDistribution& mix) {
  const std::int64_t epc_after = std::max<std::int64_t>(saturating_sub(free.epc, pod.epc_bytes), 0);
  const std::int64_t slots_after =
      std::max<std::int64_t>(saturating_sub(free.slots, pod.enclave_slots), 0);
  return mix.expected_fragment(epc_after, slots_after) -
         mix.expected_fragment(free.epc, free.slots);
}

struct Keyed {
  std::int64_t raw = 0;   // without the bonus
  bool eligible = false;  // competes with the other eligible nodes; the rest rank below them
};

inline Keyed keyed_impl(const PodRequest& pod, NodeFree free, const MixDistribution& mix) {
  const double delta_kib =
      std::clamp(std::round(delta_impl(pod, free, mix) / kKiB), -kMaxDeltaKiB, kMaxDeltaKiB);
  const std::int64_t tie_break = pod.epc_bytes > 0 ? best_fit_score(pod.epc_bytes, free.epc)
                                                   : best_fit_score(pod.enclave_slots, free.slots);
  return {
      kFragmentationOffset - (static_cast<std::int64_t>(delta_kib) << kTieBreakBits) + tie_break,
      free.opened};
}

// The context's mix, or the pod itself when the context brings none (stored in `own`).
const MixDistribution& mix_for(const ScoreContext& context, const PodRequest& pod,
                               MixDistribution& own) {
  if (context.mix != nullptr && !context.mix->empty()) {
    return *context.mix;
  }
  own = MixDistribution::single(pod);
  return own;
}

}  // namespace

MixDistribution MixDistribution::from_mix(const PodMix& mix) {
  MixDistribution out;
  std::array<PodMix::Entry, PodMix::kMaxShapes> sorted{};
  const std::span<const PodMix::Entry> entries = mix.entries();
  std::copy(entries.begin(), entries.end(), sorted.begin());
  std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(entries.size()),
            [](const PodMix::Entry& a, const PodMix::Entry& b) {
              return a.shape.epc_bytes < b.shape.epc_bytes;
            });
  double mass = 0.0;  // Σ weight · EPC: weighted by EPC, not by pod count (see the header)
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (sorted[i].weight <= 0.0) {
      continue;
    }
    out.epc_[out.size_] = sorted[i].shape.epc_bytes;
    out.slots_[out.size_] = sorted[i].shape.enclave_slots;
    out.probability_[out.size_] = sorted[i].weight * static_cast<double>(sorted[i].shape.epc_bytes);
    mass += out.probability_[out.size_];
    out.max_slots_ = std::max(out.max_slots_, sorted[i].shape.enclave_slots);
    ++out.size_;
  }
  if (!(mass > 0.0)) {
    out.size_ = 0;
    return out;
  }
  for (std::size_t i = 0; i < out.size_; ++i) {
    out.probability_[i] /= mass;
  }
  double tail = 0.0;
  out.larger_or_equal_[out.size_] = 0.0;
  for (std::size_t i = out.size_; i-- > 0;) {
    tail += out.probability_[i];
    out.larger_or_equal_[i] = tail;
  }
  return out;
}

MixDistribution MixDistribution::single(const PodRequest& pod) {
  MixDistribution out;
  if (pod.epc_bytes <= 0) {
    return out;
  }
  out.epc_[0] = pod.epc_bytes;
  out.slots_[0] = pod.enclave_slots;
  out.probability_[0] = 1.0;
  out.larger_or_equal_[0] = 1.0;
  out.max_slots_ = pod.enclave_slots;
  out.size_ = 1;
  return out;
}

double MixDistribution::expected_fragment(std::int64_t free_epc, std::int64_t free_slots) const {
  if (free_epc <= 0 || size_ == 0) {
    return 0.0;
  }
  double unusable = 0.0;
  if (free_slots >= max_slots_) {
    // Slots never stop a shape here: only shapes larger than the free EPC do. They are a suffix
    // of the sorted shapes.
    const auto first_larger = std::upper_bound(epc_.begin(), epc_.begin() + size_, free_epc);
    unusable = larger_or_equal_[static_cast<std::size_t>(first_larger - epc_.begin())];
  } else {
    for (std::size_t i = 0; i < size_; ++i) {
      if (epc_[i] > free_epc || slots_[i] > free_slots) {
        unusable += probability_[i];
      }
    }
  }
  return unusable * static_cast<double>(free_epc);
}

double fragmentation_delta(const PodRequest& pod, const NodeRow& node,
                           const NodeAccounting& accounting, const MixDistribution& mix) {
  return delta_impl(pod, node_free(node, accounting), mix);
}

std::int64_t fragmentation_aware_raw(const PodRequest& pod, const NodeRow& node,
                                     const ScoreContext& context) {
  MixDistribution own;
  const NodeFree free = node_free(node, context.accounting);
  const Keyed keyed = keyed_impl(pod, free, mix_for(context, pod, own));
  return keyed.raw + (keyed.eligible ? kEligibleBonus : 0);
}

void fragmentation_aware_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                              const ScoreContext& context, std::span<std::int64_t> out) {
  MixDistribution own;
  const MixDistribution& mix = mix_for(context, pod, own);
  const NodeAccounting accounting = context.accounting;
  // With an eligible candidate, the others score 0 and the 0..10 range spreads over the eligible
  // ones only: the bonus's order without its magnitude, which would flatten every eligible node
  // to 10 in normalisation. out[] holds the unshifted raw meanwhile; -1 marks "scores 0".
  bool any_eligible = false;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    out[i] = -1;
    if (nodes[i] == nullptr) {
      continue;
    }
    const Keyed keyed = keyed_impl(pod, node_free(*nodes[i], accounting), mix);
    if (keyed.eligible && !any_eligible) {
      std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i), -1);
      any_eligible = true;
    }
    if (keyed.eligible || !any_eligible) {
      out[i] = keyed.raw;
    }
  }
  std::int64_t lowest = 0;
  bool any = false;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (out[i] >= 0) {
      lowest = any ? std::min(lowest, out[i]) : out[i];
      any = true;
    }
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    out[i] = out[i] < 0 ? 0 : out[i] - lowest + 1;
  }
}

}  // namespace epc::core::score
