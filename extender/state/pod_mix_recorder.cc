#include "extender/state/pod_mix_recorder.h"

namespace epc::state {

PodMixRecorder::PodMixRecorder(double half_life_pods)
    : half_life_pods_(half_life_pods), mix_(half_life_pods) {}

core::score::MixDistribution PodMixRecorder::observe_and_distribution(const core::PodRequest& pod) {
  core::PodMix copy;
  {
    const std::lock_guard lock(mutex_);
    if (pod.epc_bytes > 0) {
      mix_.observe(pod);
      ++observed_pods_;
    }
    // A plain copy of fixed storage: from_mix's sort then runs without holding the lock.
    copy = mix_;
  }
  return core::score::MixDistribution::from_mix(copy);
}

core::score::MixDistribution PodMixRecorder::distribution() const {
  core::PodMix copy;
  {
    const std::lock_guard lock(mutex_);
    copy = mix_;
  }
  return core::score::MixDistribution::from_mix(copy);
}

std::uint64_t PodMixRecorder::observed_pods() const {
  const std::lock_guard lock(mutex_);
  return observed_pods_;
}

}  // namespace epc::state
