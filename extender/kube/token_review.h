#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace epc::kube {

class RestClient;

// What kube-apiserver said of a bearer token (authentication.k8s.io/v1 TokenReview status).
struct ReviewedToken {
  bool authenticated = false;
  std::string username;  // "system:serviceaccount:<namespace>:<name>" for a service account
  // The pod's node, from user.extra["authentication.kubernetes.io/node-name"]: a projected token
  // of a pod carries it since Kubernetes 1.30 (ServiceAccountTokenPodNodeInfo). Empty: none.
  std::string node_name;
  std::string pod_name;                // user.extra[...pod-name], for logs
  std::vector<std::string> audiences;  // status.audiences: the reviewed audiences it is valid for
  std::string error;                   // status.error when not authenticated
};

// The POST body of a TokenReview for `token` and one audience (the token must have been issued
// for it). The token is JSON-escaped: it is untrusted input.
std::string token_review_body(std::string_view token, std::string_view audience);

// Parses a TokenReview response body. Malformed JSON or a body that is not a TokenReview is an
// error; an unauthenticated token is not (authenticated false, error set).
common::Result<ReviewedToken> parse_token_review(std::string_view body);

// Asks kube-apiserver about a token: the seam between the report side's authenticator and the
// API client, so the authenticator is tested without a server and the API client without gRPC.
class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  // A transport failure or an HTTP status other than 200/201 is an error (the caller cannot tell
  // whether the token is good: retry later); a token the API server refused is a ReviewedToken.
  virtual common::Result<ReviewedToken> review(std::string_view token) = 0;
};

// TokenReviewer over one RestClient (POST /apis/authentication.k8s.io/v1/tokenreviews; RBAC:
// create tokenreviews, e.g. the system:auth-delegator ClusterRole or system:kube-scheduler's).
// Reviews are serialized on the one connection: a few milliseconds each, behind a cache.
// Thread-safety: review() from any thread.
class ApiTokenReviewer final : public TokenReviewer {
 public:
  ApiTokenReviewer(std::unique_ptr<RestClient> client, std::string audience);
  ~ApiTokenReviewer() override;
  common::Result<ReviewedToken> review(std::string_view token) override;

 private:
  std::mutex mutex_;
  std::unique_ptr<RestClient> client_;  // guarded by mutex_
  const std::string audience_;
};

}  // namespace epc::kube
