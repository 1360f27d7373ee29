#pragma once

#include <string>

#include "extender/core/pod_request.h"
#include "extender/http/codec/extender_args.h"

namespace epc::http {

// The pod whose demand this connection last sent to the state writer. kube-scheduler asks filter
// and then prioritize for the same pod on the same connection, and retries a pod with the same
// spec: the second telling would change nothing in the ledger, so the route skips it, and a
// repeated request allocates nothing and does not wake the writer. Per connection, so no lock;
// other connections may send the same pod again, which the writer takes as a no-op.
class ObservationMemo {
 public:
  // True when `pod` with `request` is what remember() last stored.
  bool same(const codec::PodIdentity& pod, const core::PodRequest& request) const {
    return valid_ && request == request_ && pod.name == name_ &&
           pod.namespace_name == namespace_name_ && pod.uid == uid_;
  }

  // Stores `pod` and `request`; the strings keep their capacity from request to request.
  void remember(const codec::PodIdentity& pod, const core::PodRequest& request) {
    name_.assign(pod.name);
    namespace_name_.assign(pod.namespace_name);
    uid_.assign(pod.uid);
    request_ = request;
    valid_ = true;
  }

 private:
  std::string name_;
  std::string namespace_name_;
  std::string uid_;
  core::PodRequest request_;
  bool valid_ = false;
};

}  // namespace epc::http
