#include "extender/core/pod_mix.h"

#include <cmath>

namespace epc::core {

PodMix::PodMix(double half_life_pods)
    : half_life_pods_(half_life_pods),
      decay_(half_life_pods > 0.0 ? std::exp2(-1.0 / half_life_pods) : 0.0) {}

void PodMix::observe(const PodRequest& pod) {
  if (pod.epc_bytes <= 0) {
    return;
  }
  const PodShape shape{pod.epc_bytes, pod.enclave_slots};
  Entry* match = nullptr;
  Entry* lightest = nullptr;
  for (std::size_t i = 0; i < size_; ++i) {
    Entry& entry = entries_[i];
    entry.weight *= decay_;
    if (entry.shape == shape) {
      match = &entry;
    }
    if (lightest == nullptr || entry.weight < lightest->weight) {
      lightest = &entry;
    }
  }
  if (match == nullptr) {
    match = size_ < kMaxShapes ? &entries_[size_++] : lightest;
    *match = Entry{shape, 0.0};
  }
  match->weight += 1.0;
}

}  // namespace epc::core
