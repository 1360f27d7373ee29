#include "extender/kube/token_review.h"

#include <simdjson.h>

#include "extender/http/codec/json_writer.h"
#include "extender/kube/rest_client.h"

namespace epc::kube {

namespace {

constexpr std::string_view kNodeNameKey = "authentication.kubernetes.io/node-name";
constexpr std::string_view kPodNameKey = "authentication.kubernetes.io/pod-name";
constexpr std::string_view kTokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews";

// The first string of an ExtraValue (a list of strings); empty when absent or not a string list.
std::string first_string(simdjson::dom::element value) {
  simdjson::dom::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) {
    return {};
  }
  for (simdjson::dom::element item : items) {
    std::string_view text;
    if (item.get_string().get(text) == simdjson::SUCCESS) {
      return std::string(text);
    }
  }
  return {};
}

}  // namespace

std::string token_review_body(std::string_view token, std::string_view audience) {
  std::string body =
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":)";
  http::codec::append_json_string(body, token);
  body.append(R"(,"audiences":[)");
  http::codec::append_json_string(body, audience);
  body.append("]}}");
  return body;
}

common::Result<ReviewedToken> parse_token_review(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto code = parser.parse(body.data(), body.size()).get(root); code) {
    return common::Error{std::string("TokenReview reply is not JSON: ") +
                         simdjson::error_message(code)};
  }
  std::string_view kind;
  if (root["kind"].get_string().get(kind) != simdjson::SUCCESS || kind != "TokenReview") {
    return common::Error{"reply is not a TokenReview (kind \"" + std::string(kind) + "\")"};
  }
  ReviewedToken out;
  simdjson::dom::object status;
  if (root["status"].get_object().get(status) != simdjson::SUCCESS) {
    return common::Error{"TokenReview reply has no status"};
  }
  bool authenticated = false;
  if (status["authenticated"].get_bool().get(authenticated) == simdjson::SUCCESS) {
    out.authenticated = authenticated;
  }
  std::string_view text;
  if (status["error"].get_string().get(text) == simdjson::SUCCESS) {
    out.error = std::string(text);
  }
  simdjson::dom::array audiences;
  if (status["audiences"].get_array().get(audiences) == simdjson::SUCCESS) {
    for (simdjson::dom::element audience : audiences) {
      if (audience.get_string().get(text) == simdjson::SUCCESS) {
        out.audiences.emplace_back(text);
      }
    }
  }
  simdjson::dom::object user;
  if (status["user"].get_object().get(user) == simdjson::SUCCESS) {
    if (user["username"].get_string().get(text) == simdjson::SUCCESS) {
      out.username = std::string(text);
    }
    simdjson::dom::object extra;
    if (user["extra"].get_object().get(extra) == simdjson::SUCCESS) {
      simdjson::dom::element value;
      if (extra[kNodeNameKey].get(value) == simdjson::SUCCESS) {
        out.node_name = first_string(value);
      }
      if (extra[kPodNameKey].get(value) == simdjson::SUCCESS) {
        out.pod_name = first_string(value);
      }
    }
  }
  if (out.authenticated && out.username.empty()) {
    return common::Error{"TokenReview authenticated a token without a user name"};
  }
  return out;
}

ApiTokenReviewer::ApiTokenReviewer(std::unique_ptr<RestClient> client, std::string audience)
    : client_(std::move(client)), audience_(std::move(audience)) {}

ApiTokenReviewer::~ApiTokenReviewer() = default;

common::Result<ReviewedToken> ApiTokenReviewer::review(std::string_view token) {
  const std::string body = token_review_body(token, audience_);
  std::lock_guard lock(mutex_);
  auto response = client_->post(kTokenReviewPath, body);
  if (!response.ok()) {
    return common::Error{"TokenReview failed: " + response.error().message};
  }
  if (response->status != 201 && response->status != 200) {
    std::string text = response->body.substr(0, 300);
    while (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    return common::Error{"TokenReview refused: HTTP " + std::to_string(response->status) + " " +
                         text};
  }
  return parse_token_review(response->body);
}

}  // namespace epc::kube
