#include "tools/standins/service_account_tokens.h"

#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>
#include <openssl/evp.h>

namespace epc::tools::standins {
namespace {

namespace json = boost::json;

// What kube-apiserver accepts when a review names no audiences: its own (--api-audiences).
constexpr std::string_view kApiServerAudience = "https://kubernetes.default.svc.cluster.local";
constexpr std::string_view kIssuer = "https://kubernetes.default.svc.cluster.local";

std::string base64url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

std::int64_t unix_seconds(ServiceAccountTokens::Clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    out += (out.size() > 1 ? " " : "") + json::serialize(json::value(item));
  }
  return out + "]";
}

std::string failed_review(const json::object& spec, const std::string& reason) {
  json::object o;
  o["kind"] = "TokenReview";
  o["apiVersion"] = "authentication.k8s.io/v1";
  o["metadata"] = json::object{{"creationTimestamp", nullptr}};
  o["spec"] = spec;
  // The union of kube-apiserver's authenticators: the service-account one's reason, then the
  // other (OIDC, webhook) that did not know the token either.
  o["status"] = json::object{{"user", json::object{}},
                             {"error", "[invalid bearer token, " + reason + ", unknown]"}};
  return json::serialize(o) + "\n";
}

}  // namespace

std::string ServiceAccountTokens::uuid() {
  const std::uint64_t hi = (rng_() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));  // NOLINT
  return buf;
}

std::string ServiceAccountTokens::issue(const ServiceAccountTokenSpec& spec,
                                        Clock::time_point now) {
  Issued issued{spec, now + spec.ttl, uuid(), uuid(), uuid(), uuid()};
  json::object k8s;
  k8s["namespace"] = spec.namespace_name;
  if (!spec.node_name.empty()) {
    k8s["node"] = json::object{{"name", spec.node_name}, {"uid", issued.node_uid}};
  }
  if (!spec.pod_name.empty()) {
    k8s["pod"] = json::object{{"name", spec.pod_name}, {"uid", issued.pod_uid}};
  }
  k8s["serviceaccount"] =
      json::object{{"name", spec.service_account}, {"uid", issued.service_account_uid}};
  json::array audiences;
  for (const auto& audience : spec.audiences) {
    audiences.emplace_back(audience);
  }
  json::object claims;
  claims["aud"] = std::move(audiences);
  claims["exp"] = unix_seconds(issued.expires);
  claims["iat"] = unix_seconds(now);
  claims["iss"] = kIssuer;
  claims["jti"] = issued.jti;
  claims["kubernetes.io"] = std::move(k8s);
  claims["nbf"] = unix_seconds(now);
  claims["sub"] = "system:serviceaccount:" + spec.namespace_name + ":" + spec.service_account;

  std::string signature(256, '\0');  // an RS256 signature's size; random, checked by lookup
  for (char& c : signature) {
    c = static_cast<char>(rng_() & 0xff);
  }
  std::string token = base64url(R"({"alg":"RS256","kid":"epc-standin"})") + "." +
                      base64url(json::serialize(claims)) + "." + base64url(signature);
  issued_.emplace(token, std::move(issued));
  return token;
}

void ServiceAccountTokens::revoke(const std::string& token) {
  if (auto it = issued_.find(token); it != issued_.end()) {
    it->second.revoked = true;
  }
}

common::Result<std::string> ServiceAccountTokens::review(std::string_view request_body,
                                                         Clock::time_point now) const {
  boost::system::error_code ec;
  const json::value v = json::parse(request_body, ec);
  const json::object* root = v.if_object();
  const json::value* spec_value = root != nullptr ? root->if_contains("spec") : nullptr;
  const json::object* spec = spec_value != nullptr ? spec_value->if_object() : nullptr;
  if (ec || spec == nullptr) {
    return common::Error{"couldn't get version/kind; json parse error: " +
                         (ec ? ec.message() : std::string("no spec object"))};
  }
  const json::value* token_value = spec->if_contains("token");
  const json::string* token = token_value != nullptr ? token_value->if_string() : nullptr;
  if (token == nullptr || token->empty()) {
    return common::Error{
        "TokenReview.authentication.k8s.io \"\" is invalid: spec.token: "
        "Required value"};
  }
  std::vector<std::string> wanted;
  if (const json::value* a = spec->if_contains("audiences"); a != nullptr && a->is_array()) {
    for (const auto& item : a->get_array()) {
      if (item.is_string()) {
        wanted.emplace_back(item.get_string());
      }
    }
  }
  if (wanted.empty()) {
    wanted.emplace_back(kApiServerAudience);
  }

  const auto it = issued_.find(std::string_view(token->data(), token->size()));
  if (it == issued_.end()) {
    return failed_review(*spec, "square/go-jose: error in cryptographic primitive");
  }
  const Issued& issued = it->second;
  std::vector<std::string> matched;
  for (const auto& audience : issued.spec.audiences) {
    if (std::find(wanted.begin(), wanted.end(), audience) != wanted.end()) {
      matched.push_back(audience);
    }
  }
  if (matched.empty()) {
    return failed_review(*spec, "token audiences " + quoted_list(issued.spec.audiences) +
                                    " is invalid for the target audiences " + quoted_list(wanted));
  }
  if (now >= issued.expires) {
    return failed_review(*spec, "service account token has expired");
  }
  if (issued.revoked) {
    return failed_review(*spec, "pods \"" + issued.spec.pod_name + "\" not found");
  }

  const auto& s = issued.spec;
  json::object extra;
  extra["authentication.kubernetes.io/credential-id"] = json::array{"JTI=" + issued.jti};
  if (!s.node_name.empty()) {
    extra["authentication.kubernetes.io/node-name"] = json::array{s.node_name};
    extra["authentication.kubernetes.io/node-uid"] = json::array{issued.node_uid};
  }
  if (!s.pod_name.empty()) {
    extra["authentication.kubernetes.io/pod-name"] = json::array{s.pod_name};
    extra["authentication.kubernetes.io/pod-uid"] = json::array{issued.pod_uid};
  }
  json::array matched_json;
  for (const auto& audience : matched) {
    matched_json.emplace_back(audience);
  }
  json::object o;
  o["kind"] = "TokenReview";
  o["apiVersion"] = "authentication.k8s.io/v1";
  o["metadata"] = json::object{{"creationTimestamp", nullptr}};
  o["spec"] = *spec;
  o["status"] = json::object{
      {"authenticated", true},
      {"user", json::object{{"username",
                             "system:serviceaccount:" + s.namespace_name + ":" + s.service_account},
                            {"uid", issued.service_account_uid},
                            {"groups", json::array{"system:serviceaccounts",
                                                   "system:serviceaccounts:" + s.namespace_name,
                                                   "system:authenticated"}},
                            {"extra", std::move(extra)}}},
      {"audiences", std::move(matched_json)}};
  return json::serialize(o) + "\n";
}

}  // namespace epc::tools::standins
