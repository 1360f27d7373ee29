#include "tools/demo/http_client.h"

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

namespace epc::tools::demo {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Larger replies than this are a broken server, not a big cluster (a /metrics page for 5,000 nodes
// stays well below it).
constexpr std::uint64_t kBodyLimitBytes = 64u << 20;

}  // namespace

struct HttpClient::Impl {
  asio::io_context io;
  std::string host;
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout{0};
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  int connections = 0;

  // The blocking calls are async operations run to completion here: only async operations honour
  // tcp_stream's deadline, and a hung extender must not hang the demo.
  void run() {
    io.restart();
    io.run();
  }

  core::Result<bool> dial() {
    stream.reset();
    buffer.clear();
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) {
      return core::Error{"resolve " + host + ": " + ec.message()};
    }
    stream.emplace(io);
    stream->expires_after(timeout);
    stream->async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec) {
      stream.reset();
      return core::Error{"connect " + host + ":" + std::to_string(port) + ": " + ec.message()};
    }
    // Small requests back to back: never let Nagle hold one.
    stream->socket().set_option(tcp::no_delay(true), ec);
    ++connections;
    return true;
  }

  // One exchange on the current connection. `retryable` is set when the failure is the server
  // having closed an idle connection before anything of ours was answered.
  core::Result<HttpResponse> exchange(const http::request<http::string_body>& request,
                                      bool& retryable) {
    retryable = false;
    beast::error_code ec;
    stream->expires_after(timeout);
    http::async_write(*stream, request, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) {
      retryable = true;
      return core::Error{"write " + std::string(request.target()) + ": " + ec.message()};
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimitBytes);
    stream->expires_after(timeout);
    http::async_read(*stream, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) {
      retryable = ec == http::error::end_of_stream || ec == asio::error::connection_reset;
      return core::Error{"read reply to " + std::string(request.target()) + ": " + ec.message()};
    }
    auto response = parser.release();
    if (!response.keep_alive()) {
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream.reset();
    }
    return HttpResponse{static_cast<int>(response.result_int()), std::move(response.body())};
  }

  core::Result<HttpResponse> send(http::verb method, std::string_view target, std::string body) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, host + ":" + std::to_string(port));
    // What Go's net/http sends for kube-scheduler.
    request.set(http::field::user_agent, "Go-http-client/1.1");
    if (method == http::verb::post) {
      request.set(http::field::content_type, "application/json");
    }
    request.keep_alive(true);
    request.body() = std::move(body);
    request.prepare_payload();

    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!stream) {
        auto dialled = dial();
        if (!dialled) {
          return dialled.error();
        }
      }
      bool retryable = false;
      auto result = exchange(request, retryable);
      if (result || !retryable || attempt == 1) {
        if (!result) {
          stream.reset();
        }
        return result;
      }
      stream.reset();  // the server closed our idle connection: dial again once
    }
    return core::Error{"unreachable"};
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

core::Result<std::unique_ptr<HttpClient>> HttpClient::connect(std::string host, std::uint16_t port,
                                                              std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->host = std::move(host);
  impl->port = port;
  impl->timeout = timeout;
  auto dialled = impl->dial();
  if (!dialled) {
    return dialled.error();
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

core::Result<HttpResponse> HttpClient::post(std::string_view target, std::string body) {
  return impl_->send(http::verb::post, target, std::move(body));
}

core::Result<HttpResponse> HttpClient::get(std::string_view target) {
  return impl_->send(http::verb::get, target, {});
}

int HttpClient::connections_opened() const { return impl_->connections; }

}  // namespace epc::tools::demo
