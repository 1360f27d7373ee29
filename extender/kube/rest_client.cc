// The only translation unit of extender/kube that includes Boost.Beast/Asio and their TLS layer
// (they compile slowly). Each client owns a private io_context and drives one operation at a time
// to completion on the calling thread: asynchronous operations give per-operation deadlines,
// which Beast's synchronous calls lack, while the callers keep a simple blocking API.
#include "extender/kube/rest_client.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#pragma GCC diagnostic pop

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "extender/kube/rate_limiter.h"

namespace epc::kube {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

bool is_ip_address(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Errors that mean "the server closed the idle keep-alive connection", after which a request that
// got no reply may be sent again on a new connection.
bool is_stale_connection(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

std::string host_header(const KubeConfig& config) {
  std::string host =
      config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
  if (config.port != "443") {
    host.append(":").append(config.port);
  }
  return host;
}

}  // namespace

struct RestClient::Impl {
  Impl(KubeConfig c, RestClientOptions o)
      : config(std::move(c)), options(std::move(o)), tls(ssl::context::tls_client) {}

  KubeConfig config;
  RestClientOptions options;
  net::io_context ioc;
  ssl::context tls;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  bool connected = false;
  std::atomic<bool> cancelled{false};
  std::string host_field;

  // The bearer token, re-read from token_file when its modification time moves.
  std::string token;
  std::filesystem::file_time_type token_mtime{};
  bool token_loaded = false;

  common::Result<bool> setup_tls() {
    try {
      tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      if (config.insecure_skip_tls_verify) {
        tls.set_verify_mode(ssl::verify_none);
      } else {
        tls.set_verify_mode(ssl::verify_peer);
        if (config.ca_pem.empty()) {
          tls.set_default_verify_paths();
        } else {
          tls.add_certificate_authority(net::buffer(config.ca_pem));
        }
      }
      if (!config.client_cert_pem.empty()) {
        tls.use_certificate_chain(net::buffer(config.client_cert_pem));
        tls.use_private_key(net::buffer(config.client_key_pem), ssl::context::pem);
      }
    } catch (const std::exception& e) {
      return common::Error{"TLS setup for " + config.origin + ": " + e.what()};
    }
    host_field = host_header(config);
    return true;
  }

  // Runs one asynchronous operation to completion on this thread. `start(done)` initiates it;
  // `done(ec)` records its result.
  //
  // cancel() posts a socket cancel that runs inside some run(); it is lost when no operation is
  // pending then (a read served from Beast's buffer), so the flag is checked around every run as
  // well: once cancelled, no new operation starts and none reports success.
  template <typename Start>
  beast::error_code run(Start&& start) {
    if (cancelled.load()) {
      return net::error::operation_aborted;
    }
    std::optional<beast::error_code> result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    if (cancelled.load()) {
      return net::error::operation_aborted;
    }
    return result.value_or(net::error::operation_aborted);
  }

  void close() {
    if (stream) {
      beast::error_code ignored;
      beast::get_lowest_layer(*stream).socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
    connected = false;
  }

  common::Result<bool> connect() {
    close();
    stream.emplace(ioc, tls);
    if (!is_ip_address(config.server_name)) {
      // SNI: a name, never an address (RFC 6066).
      // (SSL_set_tlsext_host_name is a macro with a C cast; its function form is used instead.)
      SSL_ctrl(stream->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(config.server_name.c_str()));
    }
    if (!config.insecure_skip_tls_verify) {
      stream->set_verify_callback(ssl::host_name_verification(config.server_name));
    }
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    const auto endpoints = resolver.resolve(config.host, config.port, ec);
    if (ec) {
      close();
      return common::Error{"resolve " + config.host + ": " + ec.message()};
    }
    auto& lowest = beast::get_lowest_layer(*stream);
    lowest.expires_after(std::chrono::milliseconds(options.connect_timeout_ms));
    ec = run([&](auto done) { lowest.async_connect(endpoints, std::move(done)); });
    if (!ec) {
      lowest.socket().set_option(tcp::no_delay(true), ec);
      ec = run(
          [&](auto done) { stream->async_handshake(ssl::stream_base::client, std::move(done)); });
    }
    if (ec) {
      close();
      return common::Error{"connect to https://" + host_field + ": " + ec.message()};
    }
    connected = true;
    return true;
  }

  const std::string& bearer() {
    if (config.token_file.empty()) {
      return config.token;
    }
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(config.token_file, ec);
    if (!ec && (!token_loaded || mtime != token_mtime)) {
      std::ifstream in(config.token_file);
      std::ostringstream text;
      text << in.rdbuf();
      token = text.str();
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
      }
      token_mtime = mtime;
      token_loaded = true;
    }
    return token;
  }

  bhttp::request<bhttp::string_body> make_request(bhttp::verb verb, std::string_view target,
                                                  std::string_view body) {
    bhttp::request<bhttp::string_body> request{verb, config.base_path + std::string(target), 11};
    request.set(bhttp::field::host, host_field);
    request.set(bhttp::field::user_agent, options.user_agent);
    request.set(bhttp::field::accept, "application/json");
    if (const std::string& bearer_token = bearer(); !bearer_token.empty()) {
      request.set(bhttp::field::authorization, "Bearer " + bearer_token);
    }
    if (verb == bhttp::verb::post) {
      request.set(bhttp::field::content_type, "application/json");
      request.body() = std::string(body);
    }
    request.keep_alive(true);
    request.prepare_payload();
    return request;
  }

  static HttpResponse to_response(const bhttp::response<bhttp::string_body>& message) {
    HttpResponse response;
    response.status = message.result_int();
    response.body = message.body();
    if (auto it = message.find(bhttp::field::retry_after); it != message.end()) {
      try {
        response.retry_after_s = std::stoll(std::string(it->value()));
      } catch (const std::exception&) {
        response.retry_after_s = -1;  // an HTTP date: treated as absent
      }
    }
    return response;
  }

  void observe_limit(metrics::Limit limit) const {
    if (options.on_limit) {
      options.on_limit(limit);
    }
  }

  std::string body_limit_text() const {
    return "response body larger than the limit of " + std::to_string(options.max_body_bytes) +
           " bytes (kube.max_response_size)";
  }

  void after_status(unsigned status) {
    if (status == 401) {
      token_loaded = false;  // a rotated token may be waiting in the file
    }
  }

  common::Result<HttpResponse> request(bhttp::verb verb, std::string_view target,
                                       std::string_view body) {
    if (options.limiter != nullptr) {
      options.limiter->acquire();
    }
    for (int attempt = 0;; ++attempt) {
      if (cancelled.load()) {
        return common::Error{"request cancelled"};
      }
      const bool reused = connected;
      if (!connected) {
        if (auto ok = connect(); !ok.ok()) {
          return ok.error();
        }
      }
      auto message = make_request(verb, target, body);
      auto& lowest = beast::get_lowest_layer(*stream);
      lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
      beast::error_code ec =
          run([&](auto done) { bhttp::async_write(*stream, message, std::move(done)); });
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      if (!ec) {
        ec = run([&](auto done) { bhttp::async_read(*stream, buffer, parser, std::move(done)); });
      }
      if (ec) {
        close();
        if (reused && attempt == 0 && is_stale_connection(ec) && !cancelled.load()) {
          continue;
        }
        if (ec == bhttp::error::body_limit && !cancelled.load()) {
          observe_limit(metrics::Limit::kKubeResponseSize);
          return common::Error{std::string(bhttp::to_string(verb)) + " " + std::string(target) +
                               ": " + body_limit_text()};
        }
        return common::Error{std::string(bhttp::to_string(verb)) + " " + std::string(target) +
                             ": " + (cancelled.load() ? std::string("cancelled") : ec.message())};
      }
      const auto& reply = parser.get();
      HttpResponse response = to_response(reply);
      after_status(response.status);
      if (!reply.keep_alive()) {
        close();
      }
      return response;
    }
  }

  common::Result<HttpResponse> stream_lines(std::string_view target, std::int64_t idle_timeout_ms,
                                            const LineHandler& on_line,
                                            const OpenHandler& on_open) {
    if (options.limiter != nullptr) {
      options.limiter->acquire();
    }
    if (cancelled.load()) {
      return common::Error{"watch cancelled"};
    }
    // A watch gets a connection of its own: it is closed when the stream ends.
    if (auto ok = connect(); !ok.ok()) {
      return ok.error();
    }
    auto message = make_request(bhttp::verb::get, target, {});
    auto& lowest = beast::get_lowest_layer(*stream);
    lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
    beast::error_code ec =
        run([&](auto done) { bhttp::async_write(*stream, message, std::move(done)); });
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);  // a watch has no end in bytes
    if (!ec) {
      ec = run(
          [&](auto done) { bhttp::async_read_header(*stream, buffer, parser, std::move(done)); });
    }
    if (ec) {
      close();
      return common::Error{"watch " + std::string(target) + ": " +
                           (cancelled.load() ? std::string("cancelled") : ec.message())};
    }
    HttpResponse response;
    response.status = parser.get().result_int();
    after_status(response.status);
    if (on_open) {
      on_open(response.status);
    }

    char chunk[16 * 1024];
    std::string pending;  // the unfinished line, never longer than max_line_bytes
    bool stopped = false;
    bool too_long = false;
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      lowest.expires_after(std::chrono::milliseconds(
          response.status == 200 ? idle_timeout_ms : options.request_timeout_ms));
      // read_some: hand on whatever arrived (async_read would wait for a full chunk buffer).
      ec =
          run([&](auto done) { bhttp::async_read_some(*stream, buffer, parser, std::move(done)); });
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      const std::size_t got = sizeof chunk - parser.get().body().size;
      if (response.status != 200) {
        if (response.body.size() + got > options.max_body_bytes) {
          ec = bhttp::error::body_limit;
        } else {
          response.body.append(chunk, got);
        }
      } else {
        // Chunks are not events: split the de-chunked bytes on '\n' only.
        std::string_view data(chunk, got);
        while (!data.empty() && !stopped) {
          const std::size_t newline = data.find('\n');
          const std::size_t piece = newline == std::string_view::npos ? data.size() : newline;
          if (pending.size() + piece > options.max_line_bytes) {
            too_long = true;  // an event we will not buffer: the stream can no longer be followed
            break;
          }
          if (newline == std::string_view::npos) {
            pending.append(data);
            break;
          }
          if (pending.empty()) {
            stopped = !on_line(data.substr(0, newline));
          } else {
            pending.append(data.substr(0, newline));
            stopped = !on_line(pending);
            pending.clear();
          }
          data.remove_prefix(newline + 1);
        }
      }
      if (ec || stopped || too_long) {
        break;
      }
    }
    close();
    if (too_long) {
      if (cancelled.load()) {
        return common::Error{"watch " + std::string(target) + ": cancelled"};
      }
      observe_limit(metrics::Limit::kKubeWatchEvent);
      response.line_too_long = true;
      return response;
    }
    if (stopped) {
      return common::Error{"watch stopped by its reader"};
    }
    if (ec) {
      if (ec == bhttp::error::body_limit && !cancelled.load()) {
        observe_limit(metrics::Limit::kKubeResponseSize);
        return common::Error{"watch " + std::string(target) + ": " + body_limit_text()};
      }
      const std::string why = cancelled.load()              ? "cancelled"
                              : ec == beast::error::timeout ? "silent for too long"
                                                            : ec.message();
      return common::Error{"watch " + std::string(target) + ": " + why};
    }
    if (response.status == 200 && !pending.empty()) {
      on_line(pending);  // a last event without its newline
    }
    return response;
  }
};

RestClient::RestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestClient::~RestClient() {
  if (impl_) {
    impl_->close();
  }
}

common::Result<std::unique_ptr<RestClient>> RestClient::create(const KubeConfig& config,
                                                               RestClientOptions options) {
  auto impl = std::make_unique<Impl>(config, std::move(options));
  if (auto ok = impl->setup_tls(); !ok.ok()) {
    return ok.error();
  }
  return std::unique_ptr<RestClient>(new RestClient(std::move(impl)));
}

common::Result<HttpResponse> RestClient::get(std::string_view target) {
  try {
    return impl_->request(bhttp::verb::get, target, {});
  } catch (const std::exception& e) {
    impl_->close();
    return common::Error{"GET " + std::string(target) + ": " + e.what()};
  }
}

common::Result<HttpResponse> RestClient::post(std::string_view target, std::string_view json_body) {
  try {
    return impl_->request(bhttp::verb::post, target, json_body);
  } catch (const std::exception& e) {
    impl_->close();
    return common::Error{"POST " + std::string(target) + ": " + e.what()};
  }
}

common::Result<HttpResponse> RestClient::stream_lines(std::string_view target,
                                                      std::int64_t idle_timeout_ms,
                                                      const LineHandler& on_line,
                                                      const OpenHandler& on_open) {
  try {
    return impl_->stream_lines(target, idle_timeout_ms, on_line, on_open);
  } catch (const std::exception& e) {
    impl_->close();
    return common::Error{"watch " + std::string(target) + ": " + e.what()};
  }
}

void RestClient::cancel() {
  impl_->cancelled.store(true);
  // Runs on the owner's thread at its next run(): closing the socket aborts what is in flight.
  net::post(impl_->ioc, [impl = impl_.get()] {
    if (impl->stream) {
      beast::error_code ignored;
      beast::get_lowest_layer(*impl->stream).socket().cancel(ignored);
    }
  });
}

}  // namespace epc::kube
