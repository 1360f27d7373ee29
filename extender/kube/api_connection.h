#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "extender/core/pod_request.h"
#include "extender/kube/binder.h"
#include "extender/kube/informer.h"
#include "extender/kube/kube_config.h"
#include "extender/kube/rate_limiter.h"
#include "extender/kube/token_review.h"
#include "extender/kube/watch_targets.h"
#include "extender/metrics/limit.h"
#include "extender/state/cluster_state.h"

namespace epc::kube {

// Everything the extender does with kube-apiserver, started together: the pod and node informers
// that feed the state writer and the binder behind the bind verb. Each informer and each binder
// worker has its own connection; all share one client-side rate limit.
class ApiConnection {
 public:
  struct Options {
    KubeConfig kube;
    double qps = 50;
    int burst = 100;
    std::int64_t request_timeout_ms = 15000;
    int bind_workers = 4;
    core::PodRequestOptions pod_request;
    InformerOptions informer;
    std::string user_agent = "epc-extender";
    // Bounds of every client's responses (RestClientOptions): kube.max_watch_event_size and
    // kube.max_response_size; their hits go to on_limit (may be empty).
    std::size_t max_watch_event_bytes = std::size_t{8} << 20;
    std::size_t max_response_bytes = std::size_t{256} << 20;
    std::function<void(metrics::Limit)> on_limit;
  };

  // Validates the TLS material and starts the informers (they retry with backoff on their own; an
  // apiserver that is down is not an error here).
  static common::Result<std::unique_ptr<ApiConnection>> start(state::ClusterState& state,
                                                              Options options);
  ~ApiConnection();  // stops
  ApiConnection(const ApiConnection&) = delete;
  ApiConnection& operator=(const ApiConnection&) = delete;

  Binder& binder() { return *binder_; }

  // A TokenReviewer (grpc.auth token) on a connection of its own and outside the shared rate
  // limit: reviews have their own bound (TokenAuthenticator), and a burst of reconnecting
  // plugins must not delay the watches or binds. It does not depend on this object's lifetime.
  common::Result<std::shared_ptr<TokenReviewer>> token_reviewer(std::string audience) const;
  const Informer& pod_informer() const { return *pod_informer_; }
  const Informer& node_informer() const { return *node_informer_; }

  // Stops the binder (failing queued binds) and the informers. Idempotent.
  void stop();

 private:
  ApiConnection(state::ClusterState& state, Options options);
  common::Result<std::unique_ptr<RestClient>> new_client();

  state::ClusterState& state_;
  Options options_;
  RateLimiter limiter_;
  PodWatchTarget pod_target_;
  NodeWatchTarget node_target_;
  std::unique_ptr<Informer> pod_informer_;
  std::unique_ptr<Informer> node_informer_;
  std::unique_ptr<Binder> binder_;
};

}  // namespace epc::kube
