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
#include <boost/beast/ssl.hpp>
#pragma GCC diagnostic pop
#include <optional>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

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
  std::optional<beast::tcp_stream> stream;  // the connection, plain text
  std::optional<Tls> tls;
  std::optional<asio::ssl::context> tls_context;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;  // the connection, TLS
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout{10000};
  int connections_opened = 0;

  void run() {
    io.restart();
    io.run();
  }

  bool open() const { return stream.has_value() || tls_stream.has_value(); }
  beast::tcp_stream& tcp_layer() { return tls_stream ? tls_stream->next_layer() : *stream; }
  template <typename F>
  void with_stream(F&& f) {
    if (tls_stream) {
      f(*tls_stream);
    } else {
      f(*stream);
    }
  }

  static std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    char text[256] = "unknown OpenSSL error";
    if (code != 0) {
      ERR_error_string_n(code, text, sizeof text);
    }
    return text;
  }

  common::Result<bool> load_tls_context() {
    tls_context.emplace(asio::ssl::context::tls_client);
    SSL_CTX* ctx = tls_context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx, tls->ca_file.c_str(), nullptr) != 1) {
      return common::Error{"CA file " + tls->ca_file + ": " + openssl_reason()};
    }
    if (!tls->cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
      return common::Error{"client certificate " + tls->cert_file + ": " + openssl_reason()};
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    return true;
  }

  common::Result<bool> handshake() {
    const std::string name = tls->server_name.empty() ? host : tls->server_name;
    if (auto loaded = load_tls_context(); !loaded) {
      stream.reset();
      return loaded.error();
    }
    tls_stream.emplace(std::move(*stream), *tls_context);
    stream.reset();
    SSL* ssl = tls_stream->native_handle();
    beast::error_code address_ec;
    asio::ip::make_address(name, address_ec);
    // The certificate must name the server: its IP SAN for an address, else a DNS SAN, which
    // also goes out as SNI (SNI carries names, never addresses).
    if (!address_ec) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
      SSL_set1_host(ssl, name.c_str());
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
    }
    beast::error_code ec;
    tls_stream->next_layer().expires_after(timeout);
    tls_stream->async_handshake(asio::ssl::stream_base::client,
                                [&ec](beast::error_code e) { ec = e; });
    run();
    if (ec) {
      tls_stream.reset();
      return common::Error{"TLS handshake with " + host + ":" + std::to_string(port) + " (" + name +
                           "): " + ec.message()};
    }
    return true;
  }

  common::Result<bool> connect() {
    if (open()) {
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
    if (tls) {
      if (auto shaken = handshake(); !shaken) {
        return shaken.error();
      }
    }
    ++connections_opened;
    return true;
  }

  void close() {
    if (open()) {
      beast::error_code ec;
      tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ec);
      tcp_layer().socket().close(ec);
      stream.reset();
      tls_stream.reset();
    }
    buffer.clear();
  }

  // One exchange on the open connection. `stale` is set when the failure looks like the server
  // having closed the connection before answering (the write failed, or the read saw the end).
  common::Result<HttpResponse> exchange(const http::request<http::string_body>& req, bool& stale) {
    stale = false;
    beast::error_code ec;
    tcp_layer().expires_after(timeout);
    with_stream([&](auto& s) {
      http::async_write(s, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    });
    run();
    if (ec) {
      stale = true;
      return common::Error{"write " + std::string(req.target()) + ": " + ec.message()};
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimitBytes);
    tcp_layer().expires_after(timeout);
    with_stream([&](auto& s) {
      http::async_read(s, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    });
    run();
    if (ec) {
      stale = ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
              ec == asio::ssl::error::stream_truncated;
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
    const bool reused = open();
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

bool HttpClient::connected() const { return impl_->open(); }

void HttpClient::set_tls(Tls tls) {
  impl_->close();
  impl_->tls = std::move(tls);
}

int HttpClient::connections_opened() const { return impl_->connections_opened; }

void HttpClient::close() { impl_->close(); }

void HttpClient::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }

}  // namespace epc::tools::http_client
