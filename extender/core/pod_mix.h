#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "extender/core/pod_request.h"

namespace epc::core {

// The SGX shape of a pod as far as packing cares: its EPC and enclave-slot demand.
struct PodShape {
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  friend bool operator==(const PodShape&, const PodShape&) = default;
};

// A decayed histogram of the shapes of recent pods: the workload mix that FragmentationAware
// expects next. Each observation first multiplies every weight by 2^(−1/half_life), so a shape seen
// `half_life_pods` observations ago counts half as much as one seen now: the mix follows a
// changing workload within a few half-lives and is not swayed by one odd pod.
//
// At most kMaxShapes distinct shapes are kept (fixed storage, no allocation): a new shape beyond
// that replaces the lightest entry, which is the rarest recent shape. Production mixes have few
// distinct sizes (Alibaba's openb trace: 32 memory sizes cover 98.6% of its 8,152 pods), so the
// tail that gets replaced carries little weight.
class PodMix {
 public:
  static constexpr std::size_t kMaxShapes = 32;
  static constexpr double kDefaultHalfLifePods = 500.0;

  struct Entry {
    PodShape shape;
    double weight = 0.0;
  };

  // half_life_pods <= 0 is treated as "no memory": only the last pod counts.
  explicit PodMix(double half_life_pods = kDefaultHalfLifePods);

  // Adds one pod. Pods that want no EPC are not part of the EPC mix and are ignored.
  void observe(const PodRequest& pod);

  std::span<const Entry> entries() const { return {entries_.data(), size_}; }
  double half_life_pods() const { return half_life_pods_; }

 private:
  std::array<Entry, kMaxShapes> entries_{};
  std::size_t size_ = 0;
  double half_life_pods_;
  double decay_;  // per-observation factor 2^(−1/half_life)
};

}  // namespace epc::core
