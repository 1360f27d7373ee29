// TokenAuthenticator's decisions with a scripted reviewer (the real TokenReview round trip is in
// tests/integration/reports/node_identity_test.cc), and its small parts: the token cache, the JWT
// expiry reader, bearer and certificate-name parsing.
#include "extender/reports/token_authenticator.h"

#include <array>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "extender/reports/jwt_expiry.h"
#include "extender/reports/stream_identity.h"
#include "extender/reports/token_cache.h"

namespace epc::reports {
namespace {

using metrics::ReportRefusal;

class ScriptedReviewer final : public kube::TokenReviewer {
 public:
  common::Result<kube::ReviewedToken> review(std::string_view token) override {
    ++calls;
    if (down) {
      return common::Error{"connection refused"};
    }
    const auto it = answers.find(std::string(token));
    if (it == answers.end()) {
      kube::ReviewedToken refused;
      refused.error = "[invalid bearer token, token lookup failed]";
      return refused;
    }
    return it->second;
  }
  std::map<std::string, kube::ReviewedToken> answers;
  bool down = false;
  int calls = 0;
};

kube::ReviewedToken plugin_of(const std::string& node) {
  kube::ReviewedToken t;
  t.authenticated = true;
  t.username = "system:serviceaccount:sgx-system:epc-device-plugin";
  t.node_name = node;
  t.pod_name = "epc-device-plugin-x";
  t.audiences = {"epc-extender"};
  return t;
}

// "header.<base64url of payload>.sig"
std::string jwt_with_payload(const std::string& payload_base64url) {
  return "eyJhbGciOiJSUzI1NiJ9." + payload_base64url + ".c2ln";
}

class TokenAuthenticatorTest : public ::testing::Test {
 protected:
  TokenAuthenticator make(std::int64_t reviews_per_second = 100) {
    return TokenAuthenticator(
        reviewer_,
        {.audience = "epc-extender",
         .service_accounts = {"sgx-system/epc-device-plugin"},
         .cache_ttl_s = 120,
         .reviews_per_second = reviews_per_second,
         .review_burst = 2},
        [this](ReportRefusal r) { ++refusals_[static_cast<std::size_t>(r)]; },
        [this] { return now_s_; }, [this] { return now_ns_; });
  }
  int refusals(ReportRefusal r) const { return refusals_[static_cast<std::size_t>(r)]; }

  std::shared_ptr<ScriptedReviewer> reviewer_ = std::make_shared<ScriptedReviewer>();
  std::array<int, metrics::kReportRefusalCount> refusals_{};
  std::int64_t now_s_ = 1'700'000'000;
  std::int64_t now_ns_ = 1'000'000'000;
};

TEST_F(TokenAuthenticatorTest, AcceptsAPluginTokenAndRemembersItsNode) {
  reviewer_->answers["tok-a"] = plugin_of("node-a");
  auto auth = make();
  EXPECT_TRUE(auth.authenticate("Bearer tok-a").ok());
  auto identity = auth.identity("Bearer tok-a");
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->node, "node-a");
  EXPECT_NE(identity->subject.find("epc-device-plugin-x"), std::string::npos);
  // Cached: the second call is not reviewed again.
  EXPECT_TRUE(auth.authenticate("bearer tok-a").ok());
  EXPECT_EQ(reviewer_->calls, 1);
  // Past the cache TTL it is reviewed again.
  now_s_ += 121;
  EXPECT_FALSE(auth.identity("Bearer tok-a").has_value());
  EXPECT_TRUE(auth.authenticate("Bearer tok-a").ok());
  EXPECT_EQ(reviewer_->calls, 2);
}

TEST_F(TokenAuthenticatorTest, EachRefusalHasItsCodeAndReason) {
  auto other = plugin_of("node-a");
  other.username = "system:serviceaccount:default:web";
  reviewer_->answers["tok-web"] = other;
  reviewer_->answers["tok-nodeless"] = plugin_of("");
  auto audience = plugin_of("node-a");
  audience.audiences = {"https://kubernetes.default.svc"};
  reviewer_->answers["tok-aud"] = audience;
  auto auth = make();

  EXPECT_EQ(auth.authenticate(std::nullopt).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.authenticate("Basic dXNlcjpwdw==").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refusals(ReportRefusal::kNoCredentials), 2);

  const grpc::Status forged = auth.authenticate("Bearer forged");
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(forged.error_message().find("token lookup failed"), std::string::npos);
  EXPECT_EQ(auth.authenticate("Bearer tok-aud").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refusals(ReportRefusal::kTokenInvalid), 2);

  now_ns_ += 1'000'000'000;  // keep the review bucket from running dry
  EXPECT_EQ(auth.authenticate("Bearer tok-web").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refusals(ReportRefusal::kServiceAccount), 1);
  EXPECT_EQ(auth.authenticate("Bearer tok-nodeless").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refusals(ReportRefusal::kNoNode), 1);
  // Refusals are not cached and give no identity.
  EXPECT_FALSE(auth.identity("Bearer tok-web").has_value());

  reviewer_->down = true;
  now_ns_ += 1'000'000'000;
  EXPECT_EQ(auth.authenticate("Bearer tok-new").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(refusals(ReportRefusal::kReviewFailed), 1);
}

TEST_F(TokenAuthenticatorTest, ReviewsAreRateLimitedButCachedTokensAreNot) {
  reviewer_->answers["tok-a"] = plugin_of("node-a");
  auto auth = make(/*reviews_per_second=*/1);
  EXPECT_TRUE(auth.authenticate("Bearer tok-a").ok());  // 1 of the burst of 2
  EXPECT_EQ(auth.authenticate("Bearer forged-1").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The burst is spent: a flood of new tokens is turned away without asking kube-apiserver.
  EXPECT_EQ(auth.authenticate("Bearer forged-2").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(reviewer_->calls, 2);
  EXPECT_TRUE(auth.authenticate("Bearer tok-a").ok());  // cached
  now_ns_ += 1'000'000'000;
  EXPECT_EQ(auth.authenticate("Bearer forged-3").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(reviewer_->calls, 3);
}

TEST_F(TokenAuthenticatorTest, CacheEndsAtTheTokensOwnExpiry) {
  // {"exp":1700000060} in base64url.
  const std::string token = jwt_with_payload("eyJleHAiOjE3MDAwMDAwNjB9");
  reviewer_->answers[token] = plugin_of("node-a");
  auto auth = make();
  ASSERT_TRUE(auth.authenticate("Bearer " + token).ok());
  auto identity = auth.identity("Bearer " + token);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->expires_unix_s, 1'700'000'060);
  now_s_ += 60;
  EXPECT_FALSE(auth.identity("Bearer " + token).has_value());
}

TEST(JwtExpiry, ReadsExpAndNothingElse) {
  EXPECT_EQ(jwt_expiry_unix_s(jwt_with_payload("eyJleHAiOjE3MDAwMDAwNjB9")), 1'700'000'060);
  EXPECT_FALSE(jwt_expiry_unix_s("not-a-jwt").has_value());
  EXPECT_FALSE(jwt_expiry_unix_s("a.b").has_value());
  EXPECT_FALSE(jwt_expiry_unix_s(jwt_with_payload("e30")).has_value());  // {}
  EXPECT_FALSE(jwt_expiry_unix_s(jwt_with_payload("!!!")).has_value());  // not base64url
  EXPECT_FALSE(jwt_expiry_unix_s(jwt_with_payload("eyJleHAiOiJ4In0")).has_value());  // "x"
}

TEST(TokenCache, BoundedAndExpiring) {
  TokenCache cache(/*ttl_s=*/10, /*max_entries=*/2);
  cache.insert("a", {"node-a", "s", 0}, 100);
  cache.insert("b", {"node-b", "s", 105}, 100);
  EXPECT_EQ(cache.find("a", 105)->node, "node-a");
  EXPECT_FALSE(cache.find("b", 105).has_value());  // its own expiry came first
  cache.insert("c", {"node-c", "s", 0}, 106);
  cache.insert("d", {"node-d", "s", 0}, 106);
  EXPECT_LE(cache.size(), 2u);
  EXPECT_EQ(cache.find("d", 106)->node, "node-d");
  EXPECT_FALSE(cache.find("a", 111).has_value());
  cache.insert("expired", {"node-e", "s", 50}, 100);  // already expired: not kept
  EXPECT_FALSE(cache.find("expired", 100).has_value());
}

TEST(StreamIdentity, NodeFromKubeletStyleCommonName) {
  EXPECT_EQ(node_of_common_name("system:node:node-a"), "node-a");
  EXPECT_FALSE(node_of_common_name("system:node:").has_value());
  EXPECT_FALSE(node_of_common_name("system:kube-scheduler").has_value());
  EXPECT_FALSE(node_of_common_name("node-a").has_value());
}

TEST(StreamIdentity, BearerTokens) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc \r\n"), "abc");
  EXPECT_FALSE(bearer_token("Bearer ").has_value());
  EXPECT_FALSE(bearer_token("Basic abc").has_value());
  EXPECT_FALSE(bearer_token("").has_value());
}

}  // namespace
}  // namespace epc::reports
