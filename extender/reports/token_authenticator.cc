#include "extender/reports/token_authenticator.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "extender/reports/jwt_expiry.h"

namespace epc::reports {

namespace {

std::vector<std::string> usernames_of(const std::vector<std::string>& accounts) {
  std::vector<std::string> out;
  for (const std::string& account : accounts) {
    std::string name = account;
    std::replace(name.begin(), name.end(), '/', ':');
    out.push_back("system:serviceaccount:" + name);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out.append(out.empty() ? "" : ", ").append(item);
  }
  return out;
}

// Untrusted text quoted back to a client or a log: bounded, printable ASCII only.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 200)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

TokenAuthenticator::TokenAuthenticator(std::shared_ptr<kube::TokenReviewer> reviewer,
                                       Options options, RefusalObserver observer,
                                       UnixClock unix_clock, MonotonicClock monotonic_clock)
    : reviewer_(std::move(reviewer)),
      options_(std::move(options)),
      usernames_(usernames_of(options_.service_accounts)),
      observer_(std::move(observer)),
      unix_clock_(std::move(unix_clock)),
      monotonic_clock_(std::move(monotonic_clock)),
      cache_(std::max<std::int64_t>(options_.cache_ttl_s, 1)),
      reviews_(options_.reviews_per_second, options_.review_burst) {}

grpc::Status TokenAuthenticator::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* /*context*/,
                                         OutputMetadata* /*consumed_auth_metadata*/,
                                         OutputMetadata* /*response_metadata*/) {
  // The token stays in the call's metadata: the service reads it again to find this call's node.
  const auto it = auth_metadata.find("authorization");
  if (it == auth_metadata.end()) {
    return authenticate(std::nullopt);
  }
  return authenticate(std::string_view(it->second.data(), it->second.size()));
}

grpc::Status TokenAuthenticator::authenticate(std::optional<std::string_view> authorization) {
  using metrics::ReportRefusal;
  const std::optional<std::string_view> token =
      authorization ? bearer_token(*authorization) : std::nullopt;
  if (!token) {
    return refuse(ReportRefusal::kNoCredentials, grpc::StatusCode::UNAUTHENTICATED,
                  "no bearer token: this extender (grpc.auth token) wants the plugin's projected "
                  "ServiceAccount token for audience \"" +
                      options_.audience + "\" (epc-device-plugin --extender-token-file)");
  }
  {
    std::lock_guard lock(mutex_);
    if (cache_.find(*token, unix_now())) {
      return grpc::Status::OK;
    }
    if (!reviews_.admit(monotonic_now())) {
      return refuse(ReportRefusal::kReviewFailed, grpc::StatusCode::UNAVAILABLE,
                    "too many token reviews right now; retry later");
    }
  }
  auto reviewed = reviewer_->review(*token);
  if (!reviewed.ok()) {
    return refuse(ReportRefusal::kReviewFailed, grpc::StatusCode::UNAVAILABLE,
                  "cannot check the token now (" + reviewed.error().message + "); retry later");
  }
  if (!reviewed->authenticated) {
    return refuse(ReportRefusal::kTokenInvalid, grpc::StatusCode::UNAUTHENTICATED,
                  "token refused by kube-apiserver: " + (reviewed->error.empty()
                                                             ? std::string("not authenticated")
                                                             : printable(reviewed->error)));
  }
  if (!reviewed->audiences.empty() &&
      std::find(reviewed->audiences.begin(), reviewed->audiences.end(), options_.audience) ==
          reviewed->audiences.end()) {
    return refuse(ReportRefusal::kTokenInvalid, grpc::StatusCode::UNAUTHENTICATED,
                  "token is not for audience \"" + options_.audience + "\"");
  }
  if (std::find(usernames_.begin(), usernames_.end(), reviewed->username) == usernames_.end()) {
    return refuse(ReportRefusal::kServiceAccount, grpc::StatusCode::PERMISSION_DENIED,
                  "token of " + printable(reviewed->username) +
                      " may not report (grpc.token.service_accounts: " +
                      joined(options_.service_accounts) + ")");
  }
  if (reviewed->node_name.empty()) {
    return refuse(ReportRefusal::kNoNode, grpc::StatusCode::PERMISSION_DENIED,
                  "token of " + printable(reviewed->username) +
                      " names no node: use a projected token of the plugin's pod (Kubernetes "
                      "1.30 or later puts the pod's node in it)");
  }
  TokenIdentity identity;
  identity.node = reviewed->node_name;
  identity.subject =
      reviewed->username + (reviewed->pod_name.empty() ? "" : " (pod " + reviewed->pod_name + ")");
  identity.expires_unix_s = jwt_expiry_unix_s(*token).value_or(0);
  std::lock_guard lock(mutex_);
  cache_.insert(*token, std::move(identity), unix_now());
  return grpc::Status::OK;
}

std::optional<StreamIdentity> TokenAuthenticator::identity(std::string_view authorization) {
  const auto token = bearer_token(authorization);
  if (!token) {
    return std::nullopt;
  }
  std::lock_guard lock(mutex_);
  auto found = cache_.find(*token, unix_now());
  if (!found) {
    return std::nullopt;
  }
  return StreamIdentity{std::move(found->node), std::move(found->subject), found->expires_unix_s};
}

grpc::Status TokenAuthenticator::refuse(metrics::ReportRefusal reason, grpc::StatusCode code,
                                        std::string message) const {
  if (observer_) {
    observer_(reason);
  }
  return grpc::Status(code, std::move(message));
}

std::int64_t TokenAuthenticator::unix_now() const {
  if (unix_clock_) {
    return unix_clock_();
  }
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t TokenAuthenticator::monotonic_now() const {
  if (monotonic_clock_) {
    return monotonic_clock_();
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace epc::reports
