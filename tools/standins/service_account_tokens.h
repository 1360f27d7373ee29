#pragma once

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace epc::tools::standins {

// A projected service-account token as kubelet asks kube-apiserver for one (TokenRequest with a
// bound pod). Empty node_name: a token that names no node (Kubernetes before 1.30, or one not
// bound to a pod).
struct ServiceAccountTokenSpec {
  std::string namespace_name = "sgx-system";
  std::string service_account = "epc-device-plugin";
  std::vector<std::string> audiences = {"epc-extender"};
  std::string pod_name;
  std::string node_name;
  std::chrono::seconds ttl{3600};
};

// kube-apiserver's service-account token issuer and its TokenReview (authentication.k8s.io/v1),
// as the API server stand-in serves them. Tokens are JWT-shaped (header.claims.signature,
// base64url, the claims kube-apiserver writes: aud, exp, iat, iss, jti, nbf, sub and
// "kubernetes.io" with the namespace, pod, service account and node) but signed with nothing: a
// token is valid only if this issuer made it byte for byte, so a changed claim is an unknown token,
// as a bad signature is. A review answers as v1.32 does: authenticated with the user, its groups
// and extra (pod and node name and uid, credential id) and the audiences that matched; or, for a
// token that is unknown, expired, revoked or for other audiences, status {"user":{},"error":"..."}
// without "authenticated". Not thread-safe: the stand-in calls it under its store mutex.
class ServiceAccountTokens {
 public:
  using Clock = std::chrono::system_clock;

  std::string issue(const ServiceAccountTokenSpec& spec, Clock::time_point now);
  // As deleting the token's pod does: the token stops being valid at once.
  void revoke(const std::string& token);
  // The response to a TokenReview POST body (always 201 in kube-apiserver, good token or not).
  // An error for a body that is not a TokenReview with spec.token (the caller answers 400).
  common::Result<std::string> review(std::string_view request_body, Clock::time_point now) const;

 private:
  struct Issued {
    ServiceAccountTokenSpec spec;
    Clock::time_point expires;
    std::string jti, pod_uid, node_uid, service_account_uid;
    bool revoked = false;
  };
  std::string uuid();

  std::map<std::string, Issued, std::less<>> issued_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace epc::tools::standins
