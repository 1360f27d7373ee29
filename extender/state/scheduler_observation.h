#pragma once

#include "extender/core/ledger.h"
#include "extender/core/pod_request.h"

namespace epc::state {

// What kube-scheduler showed the extender about a pod it is placing: a value the HTTP threads send
// to the state writer (ClusterState::observe), which alone applies it. The routes build one per
// filter/prioritize of an SGX pod and leave out what their connection already sent (see
// http::ObservationMemo), so a repeated request costs no allocation and does not wake the writer.
struct SchedulerObservation {
  core::PodRequest request;
  // Remember the pod's demand in the ledger: it fills in the EPC of slot holders that nodes report
  // without one. `pod` is only read when this is set.
  bool note_request = false;
  core::PodKey pod;
  // Add the pod to the recent pod mix (prioritize: one per scheduling attempt). Ignored unless the
  // writer keeps a mix (ClusterState::Options::keep_pod_mix) and the pod wants EPC.
  bool join_mix = false;
};

}  // namespace epc::state
