#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/security/auth_metadata_processor.h>

#include "extender/kube/token_review.h"
#include "extender/metrics/report_refusal.h"
#include "extender/reports/stream_identity.h"
#include "extender/reports/stream_rate_limit.h"
#include "extender/reports/token_cache.h"

namespace epc::reports {

// grpc.auth token: every report stream must carry "authorization: Bearer <token>", a projected
// ServiceAccount token of the plugin's pod, issued for grpc.token.audience. gRPC runs Process()
// for each new call, on its own threads (IsBlocking), before the call reaches the service; it
// asks kube-apiserver (TokenReview) unless the token is cached, and accepts the call only when the
// token is authenticated, for our audience, of an allowed service account and names the pod's
// node. A refused call ends with UNAUTHENTICATED or PERMISSION_DENIED and a message saying why;
// a review that could not be made (API down) with UNAVAILABLE (the plugin retries with backoff).
//
// The service then asks identity() with the call's own authorization value, so the node is tied
// to the call's token, never to properties of the connection (gRPC's AuthContext is shared by
// every call on a connection).
//
// Reviews are bounded (reviews_per_second, review_burst): a flood of forged tokens costs
// kube-apiserver at most that, and is refused with UNAVAILABLE beyond it.
//
// Thread-safety: all members from any thread.
class TokenAuthenticator final : public grpc::AuthMetadataProcessor {
 public:
  struct Options {
    std::string audience = "epc-extender";
    std::vector<std::string> service_accounts;  // "namespace/name"
    std::int64_t cache_ttl_s = 120;
    std::int64_t reviews_per_second = 100;
    std::int64_t review_burst = 200;
  };
  using RefusalObserver = std::function<void(metrics::ReportRefusal)>;
  using UnixClock = std::function<std::int64_t()>;       // seconds; empty: the system clock
  using MonotonicClock = std::function<std::int64_t()>;  // ns; empty: steady_clock

  TokenAuthenticator(std::shared_ptr<kube::TokenReviewer> reviewer, Options options,
                     RefusalObserver observer = {}, UnixClock unix_clock = {},
                     MonotonicClock monotonic_clock = {});

  // grpc::AuthMetadataProcessor
  bool IsBlocking() const override { return true; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

  // The identity of a call Process() accepted, from its "authorization" value; nullopt when the
  // token is not (or no longer) accepted.
  std::optional<StreamIdentity> identity(std::string_view authorization);

  // Process()'s decision for one "authorization" value (nullopt: none was sent), for tests and
  // for Process itself.
  grpc::Status authenticate(std::optional<std::string_view> authorization);

 private:
  grpc::Status refuse(metrics::ReportRefusal reason, grpc::StatusCode code,
                      std::string message) const;
  std::int64_t unix_now() const;
  std::int64_t monotonic_now() const;

  const std::shared_ptr<kube::TokenReviewer> reviewer_;
  const Options options_;
  const std::vector<std::string> usernames_;  // "system:serviceaccount:ns:name" of each allowed
  const RefusalObserver observer_;
  const UnixClock unix_clock_;
  const MonotonicClock monotonic_clock_;
  std::mutex mutex_;
  TokenCache cache_;         // guarded by mutex_
  StreamRateLimit reviews_;  // guarded by mutex_
};

}  // namespace epc::reports
