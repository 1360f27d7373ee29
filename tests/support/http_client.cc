#include "tests/support/http_client.h"

// GCC 12 reports -Wnull-dereference inside Boost.Asio's inlined scheduler code (a false positive
// in a system header that the system-header exemption misses because it fires after inlining).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <chrono>
#include <optional>
#include <utility>

namespace epc::test_support {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// The synchronous API is built on async operations driven by a private io_context, because only
// async Beast operations honour tcp_stream's deadline.
struct HttpClient::Impl {
  std::string host;
  std::uint16_t port = 0;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{10000};
  int connections_opened = 0;

  // Runs the queued async operation to completion; returns its error code.
  beast::error_code run(beast::error_code& result) {
    ioc.restart();
    ioc.run();
    return result;
  }

  core::Result<bool> connect() {
    if (stream) {
      return true;
    }
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) {
      return core::Error{"bad address '" + host + "': " + ec.message()};
    }
    stream.emplace(ioc);
    buffer.clear();
    // Beast reads at most the buffer's free capacity per syscall: keep it large for big replies.
    buffer.reserve(64 * 1024);
    stream->expires_after(timeout);
    beast::error_code result = net::error::would_block;
    stream->async_connect(tcp::endpoint(address, port),
                          [&result](beast::error_code e) { result = e; });
    if (run(result)) {
      stream.reset();
      return core::Error{"connect to " + host + ":" + std::to_string(port) + ": " +
                         result.message()};
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    ++connections_opened;
    return true;
  }

  void close() {
    if (stream) {
      beast::error_code ec;
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream->socket().close(ec);
      stream.reset();
    }
    buffer.clear();
  }

  core::Result<HttpResponse> request(std::string_view method, std::string_view target,
                                     std::string_view body, std::string_view content_type) {
    if (auto connected = connect(); !connected) {
      return connected.error();
    }
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "epc-test-client/1.0");
    req.keep_alive(true);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.set(http::field::content_type, content_type);
      req.body() = std::string(body);
      req.prepare_payload();
    }

    beast::error_code result = net::error::would_block;
    stream->expires_after(timeout);
    http::async_write(*stream, req,
                      [&result](beast::error_code e, std::size_t) { result = e; });
    if (run(result)) {
      close();
      return core::Error{"write: " + result.message()};
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    result = net::error::would_block;
    stream->expires_after(timeout);
    http::async_read(*stream, buffer, parser,
                     [&result](beast::error_code e, std::size_t) { result = e; });
    if (run(result)) {
      close();
      return core::Error{"read: " + result.message()};
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = res.result_int();
    out.content_type = std::string(res[http::field::content_type]);
    out.keep_alive = res.keep_alive();
    out.body = std::move(res.body());
    if (!out.keep_alive) {
      close();
    }
    return out;
  }
};

HttpClient::HttpClient(std::uint16_t port, std::string host) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { impl_->close(); }

core::Result<HttpResponse> HttpClient::post(std::string_view target, std::string_view body,
                                            std::string_view content_type) {
  return impl_->request("POST", target, body, content_type);
}

core::Result<HttpResponse> HttpClient::get(std::string_view target) {
  return impl_->request("GET", target, {}, {});
}

core::Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view target,
                                               std::string_view body,
                                               std::string_view content_type) {
  return impl_->request(method, target, body, content_type);
}

core::Result<bool> HttpClient::connect() { return impl_->connect(); }

bool HttpClient::connected() const { return impl_->stream.has_value(); }

int HttpClient::connections_opened() const { return impl_->connections_opened; }

void HttpClient::close() { impl_->close(); }

void HttpClient::set_timeout_ms(std::int64_t timeout_ms) {
  impl_->timeout = std::chrono::milliseconds(timeout_ms);
}

}  // namespace epc::test_support
