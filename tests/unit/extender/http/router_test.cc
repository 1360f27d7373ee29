#include "extender/http/router.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "extender/http/connection_context.h"

namespace epc::http {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    Route echo;
    echo.method = HttpMethod::kPost;
    echo.path = "/echo";
    echo.verb = metrics::Verb::kFilter;
    echo.handler = [](const RouteRequest& request, RouteReply& reply) {
      reply.body.assign(request.body.view());
    };
    echo.error_writer = [](std::string_view message, RouteReply& reply) {
      reply.body.assign("custom:").append(message);
    };
    table_.add(std::move(echo));

    Route thrower;
    thrower.method = HttpMethod::kGet;
    thrower.path = "/throw";
    thrower.handler = [](const RouteRequest&, RouteReply&) { throw std::runtime_error("boom"); };
    table_.add(std::move(thrower));
  }

  // Dispatches and returns the verb; reply fields in status_/body_/outcome_.
  metrics::Verb call(HttpMethod method, std::string_view target, std::string_view body = "") {
    context_.request_body.assign(body);
    context_.reply_body.clear();
    RouteReply reply(context_.reply_body);
    const RouteRequest request{method, path_of(target), target, context_.request_body, context_};
    const metrics::Verb verb = table_.dispatch(request, reply);
    status_ = reply.status;
    outcome_ = reply.outcome;
    content_type_ = reply.content_type;
    return verb;
  }

  RouteTable table_;
  ConnectionContext context_{1024};
  unsigned status_ = 0;
  metrics::Outcome outcome_ = metrics::Outcome::kOk;
  std::string_view content_type_;
};

TEST_F(RouterTest, dispatches_by_method_and_path) {
  EXPECT_EQ(call(HttpMethod::kPost, "/echo", "hello"), metrics::Verb::kFilter);
  EXPECT_EQ(status_, 200u);
  EXPECT_EQ(outcome_, metrics::Outcome::kOk);
  EXPECT_EQ(context_.reply_body, "hello");
}

TEST_F(RouterTest, query_string_is_ignored_for_routing) {
  call(HttpMethod::kPost, "/echo?debug=1", "q");
  EXPECT_EQ(status_, 200u);
  EXPECT_EQ(context_.reply_body, "q");
  EXPECT_EQ(path_of("/a/b?c?d"), "/a/b");
  EXPECT_EQ(path_of("/plain"), "/plain");
}

TEST_F(RouterTest, unknown_path_is_404_with_json_error) {
  EXPECT_EQ(call(HttpMethod::kPost, "/nope"), metrics::Verb::kOther);
  EXPECT_EQ(status_, 404u);
  EXPECT_EQ(outcome_, metrics::Outcome::kError);
  EXPECT_EQ(content_type_, kJsonContentType);
  EXPECT_EQ(context_.reply_body, R"({"Error":"no such endpoint"})");
}

TEST_F(RouterTest, known_path_with_other_method_is_405) {
  call(HttpMethod::kGet, "/echo");
  EXPECT_EQ(status_, 405u);
  EXPECT_EQ(context_.reply_body, R"({"Error":"method not allowed"})");
}

TEST_F(RouterTest, throwing_handler_is_answered_not_propagated) {
  call(HttpMethod::kGet, "/throw");
  EXPECT_EQ(status_, 200u);
  EXPECT_EQ(outcome_, metrics::Outcome::kError);
  EXPECT_EQ(context_.reply_body, R"({"Error":"internal error: boom"})");
}

TEST_F(RouterTest, reject_uses_the_route_error_writer) {
  context_.reply_body.clear();
  RouteReply reply(context_.reply_body);
  EXPECT_EQ(table_.reject(HttpMethod::kPost, "/echo", "too big", reply), metrics::Verb::kFilter);
  EXPECT_EQ(context_.reply_body, "custom:too big");
  EXPECT_EQ(reply.outcome, metrics::Outcome::kError);

  context_.reply_body.clear();
  RouteReply generic(context_.reply_body);
  EXPECT_EQ(table_.reject(HttpMethod::kPost, "/other", "too big", generic), metrics::Verb::kOther);
  EXPECT_EQ(context_.reply_body, R"({"Error":"too big"})");
}

TEST_F(RouterTest, adding_the_same_route_replaces_it) {
  Route replacement;
  replacement.method = HttpMethod::kPost;
  replacement.path = "/echo";
  replacement.handler = [](const RouteRequest&, RouteReply& reply) { reply.body.assign("new"); };
  table_.add(std::move(replacement));
  EXPECT_EQ(call(HttpMethod::kPost, "/echo", "x"), metrics::Verb::kOther);
  EXPECT_EQ(context_.reply_body, "new");
}

TEST(ErrorJson, escapes_the_message) {
  std::string out = "junk";
  write_error_json("a \"b\"", out);
  EXPECT_EQ(out, R"({"Error":"a \"b\""})");
}

}  // namespace
}  // namespace epc::http
