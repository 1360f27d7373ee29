#pragma once

#include <cstdint>
#include <mutex>

#include "extender/core/pod_mix.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/fragmentation_aware.h"

namespace epc::state {

// The recent pod mix of the whole cluster: FragmentationAware's expectation of the pods that come
// next, fed by the prioritize handler with every SGX pod it scores.
//
// Which calls observe: only prioritize. kube-scheduler calls filter and then (if any node is left)
// prioritize once per scheduling attempt of a pod, so observing in both would count every pod
// twice; prioritize is also where the mix is read, so the pod being placed is part of the mix it is
// scored against. A pod that is retried is observed once per attempt: pods that keep failing weigh
// a little more, which is what a mix of pending demand should do.
//
// Thread-safety: every method may be called from any thread (the HTTP server may run handlers on
// several). One mutex guards the mix; it is held for one PodMix::observe (at most
// PodMix::kMaxShapes entries) and one fixed-size copy of the mix, nothing else: the distribution is
// sorted outside the lock. No method allocates.
class PodMixRecorder {
 public:
  explicit PodMixRecorder(double half_life_pods = core::PodMix::kDefaultHalfLifePods);

  PodMixRecorder(const PodMixRecorder&) = delete;
  PodMixRecorder& operator=(const PodMixRecorder&) = delete;

  // Adds `pod` to the mix and returns the distribution of the mix including it. Pods that want no
  // EPC are not part of the EPC mix (PodMix ignores them): the mix is returned unchanged.
  core::score::MixDistribution observe_and_distribution(const core::PodRequest& pod);

  // The distribution of the mix as it stands, without observing anything.
  core::score::MixDistribution distribution() const;

  // Pods that entered the mix (EPC > 0) since construction.
  std::uint64_t observed_pods() const;

  double half_life_pods() const { return half_life_pods_; }

 private:
  const double half_life_pods_;
  mutable std::mutex mutex_;
  core::PodMix mix_;                 // guarded by mutex_
  std::uint64_t observed_pods_ = 0;  // guarded by mutex_
};

}  // namespace epc::state
