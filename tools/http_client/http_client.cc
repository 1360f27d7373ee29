#include "tools/http_client/http_client.h"

// GCC 12 reports -Wnull-dereference inside Boost.Asio's inlined scheduler code: a false positive in
// a system header that fires after inlining, so the system-header exemption misses it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <optional>
#include <utility>

namespace epc::tools::http_client {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Larger replies than this are a broken server, not a big cluster (a /metrics page or a prioritize
// reply for 5,000 nodes stays well below it); the cap keeps a runaway reply from eating memory.
constexpr std::uint64_t kBodyLimitBytes = 64u << 20;
// Beast reads at most the buffer's free capacity per syscall: keep it large for big replies.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
// What Go's net/http sends for kube-scheduler; the extender sees the same requests from the demo.
constexpr std::string_view kUserAgent = "Go-http-client/1.1";

}  // namespace

// The synchronous API is built on async operations run to completion on a private io_context,
// because only async Beast operations honour tcp_stream's deadline.
struct HttpClient::Impl {
  std::string host;
  std::uint16_t port = 0;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{10000};
  int connections_opened = 0;

  void run() {
    io.restart();
    io.run();
  }

  common::Result<bool> connect() {
    if (stream) {
      return true;
    }
    buffer.clear();
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) {
      return common::Error{"resolve " + host + ": " + ec.message()};
    }
    stream.emplace(io);
    buffer.reserve(kReadBufferBytes);
    stream->expires_after(timeout);
    stream->async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec) {
      stream.reset();
      return common::Error{"connect " + host + ":" + std::to_string(port) + ": " + ec.message()};
    }
    // Small requests back to back: never let Nagle hold one.
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

  // One exchange on the open connection. `stale` is set when the failure looks like the server
  // having closed the connection before answering (the write failed, or the read saw the end).
  common::Result<HttpResponse> exchange(const http::request<http::string_body>& req, bool& stale) {
    stale = false;
    beast::error_code ec;
    stream->expires_after(timeout);
    http::async_write(*stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) {
      stale = true;
      return common::Error{"write " + std::string(req.target()) + ": " + ec.message()};
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimitBytes);
    stream->expires_after(timeout);
    http::async_read(*stream, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) {
      stale = ec == http::error::end_of_stream || ec == asio::error::connection_reset;
      return common::Error{"read reply to " + std::string(req.target()) + ": " + ec.message()};
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

  common::Result<HttpResponse> request(std::string_view method, std::string_view target,
                                       std::string_view body, std::string_view content_type) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host + ":" + std::to_string(port));
    req.set(http::field::user_agent, kUserAgent);
    req.keep_alive(true);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.set(http::field::content_type, content_type);
      req.body() = std::string(body);
      req.prepare_payload();
    }

    // A connection we did not open for this request may have been closed by the server meanwhile.
    const bool reused = stream.has_value();
    for (int attempt = 0;; ++attempt) {
      if (auto connected = connect(); !connected) {
        return connected.error();
      }
      bool stale = false;
      auto result = exchange(req, stale);
      if (!result) {
        close();
        if (stale && reused && attempt == 0) {
          continue;  // once, on a new connection
        }
      }
      return result;
    }
  }
};

HttpClient::HttpClient(std::uint16_t port, std::string host) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { impl_->close(); }

common::Result<HttpResponse> HttpClient::post(std::string_view target, std::string_view body,
                                              std::string_view content_type) {
  return impl_->request("POST", target, body, content_type);
}

common::Result<HttpResponse> HttpClient::get(std::string_view target) {
  return impl_->request("GET", target, {}, {});
}

common::Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view target,
                                                 std::string_view body,
                                                 std::string_view content_type) {
  return impl_->request(method, target, body, content_type);
}

common::Result<bool> HttpClient::connect() { return impl_->connect(); }

bool HttpClient::connected() const { return impl_->stream.has_value(); }

int HttpClient::connections_opened() const { return impl_->connections_opened; }

void HttpClient::close() { impl_->close(); }

void HttpClient::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }

}  // namespace epc::tools::http_client
