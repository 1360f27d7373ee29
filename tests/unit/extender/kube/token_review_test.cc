#include "extender/kube/token_review.h"

#include <gtest/gtest.h>

namespace epc::kube {
namespace {

// The shape of kube-apiserver v1.32's answers (authentication.k8s.io/v1, 201 Created).
constexpr std::string_view kAuthenticated =
    R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},)"
    R"("spec":{"token":"x","audiences":["epc-extender"]},"status":{"authenticated":true,"user":{)"
    R"("username":"system:serviceaccount:sgx-system:epc-device-plugin","uid":"5a1f",)"
    R"("groups":["system:serviceaccounts","system:serviceaccounts:sgx-system","system:authenticated"],)"
    R"("extra":{"authentication.kubernetes.io/credential-id":["JTI=7ee5"],)"
    R"("authentication.kubernetes.io/node-name":["node-a"],"authentication.kubernetes.io/node-uid":["497e"],)"
    R"("authentication.kubernetes.io/pod-name":["epc-device-plugin-x7"],"authentication.kubernetes.io/pod-uid":["e87d"]}},)"
    R"("audiences":["epc-extender"]}})"
    "\n";

constexpr std::string_view kRefused =
    R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},)"
    R"("spec":{"token":"x","audiences":["epc-extender"]},"status":{"user":{},)"
    R"("error":"[invalid bearer token, service account token has been invalidated]"}})"
    "\n";

TEST(TokenReview, ReadsUserNodeAndAudiences) {
  auto reviewed = parse_token_review(kAuthenticated);
  ASSERT_TRUE(reviewed.ok()) << reviewed.error().message;
  EXPECT_TRUE(reviewed->authenticated);
  EXPECT_EQ(reviewed->username, "system:serviceaccount:sgx-system:epc-device-plugin");
  EXPECT_EQ(reviewed->node_name, "node-a");
  EXPECT_EQ(reviewed->pod_name, "epc-device-plugin-x7");
  ASSERT_EQ(reviewed->audiences.size(), 1u);
  EXPECT_EQ(reviewed->audiences[0], "epc-extender");
}

TEST(TokenReview, ARefusalIsAValueWithItsError) {
  auto reviewed = parse_token_review(kRefused);
  ASSERT_TRUE(reviewed.ok()) << reviewed.error().message;
  EXPECT_FALSE(reviewed->authenticated);
  EXPECT_TRUE(reviewed->node_name.empty());
  EXPECT_NE(reviewed->error.find("invalidated"), std::string::npos);
}

TEST(TokenReview, MalformedRepliesAreErrors) {
  EXPECT_FALSE(parse_token_review("").ok());
  EXPECT_FALSE(parse_token_review("{").ok());
  EXPECT_FALSE(parse_token_review(R"({"kind":"Status","status":"Failure"})").ok());
  EXPECT_FALSE(parse_token_review(R"({"kind":"TokenReview"})").ok());
  // Authenticated without a user: not trusted.
  EXPECT_FALSE(
      parse_token_review(R"({"kind":"TokenReview","status":{"authenticated":true,"user":{}}})")
          .ok());
}

TEST(TokenReview, RequestBodyEscapesTheToken) {
  const std::string body = token_review_body("a\"b\\c", "epc-extender");
  EXPECT_EQ(
      body,
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"a\"b\\c","audiences":["epc-extender"]}})");
}

}  // namespace
}  // namespace epc::kube
