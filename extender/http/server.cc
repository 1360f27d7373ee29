// The only translation unit that includes Boost.Beast/Asio (they compile slowly): the request body
// type, the session (one connection) and the listener, read top-down. Handlers, routes and the JSON
// codec know nothing about sockets.
#include "extender/http/server.h"

// GCC 12 reports -Wnull-dereference inside Boost.Asio's inlined scheduler code: a false positive in
// a system header that the system-header exemption misses because it fires after inlining.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#pragma GCC diagnostic pop

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "extender/http/connection_context.h"
#include "extender/http/extender_routes.h"
#include "extender/http/tls_context.h"

namespace epc::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Every connection is one of these; Session and RefusedConnection are templates over it, so plain
// text pays nothing for TLS.
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <typename Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

template <typename Stream>
Stream make_stream(tcp::socket&& socket, net::ssl::context* tls) {
  if constexpr (kIsTls<Stream>) {
    return Stream(std::move(socket), *tls);
  } else {
    (void)tls;
    return Stream(std::move(socket));
  }
}

// Read buffer capacity kept per connection. Beast sizes each socket read by the buffer's free
// capacity (at least 512 bytes): a small buffer would read a 100 KB body in hundreds of syscalls.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
// Bytes asked for by the read that waits for the first byte of the next request.
constexpr std::size_t kFirstReadBytes = kReadBufferBytes;
// After refusing a request (e.g. its body is over the limit) the unread rest of it is drained
// before closing, so the kernel does not answer it with a RST that could destroy our reply in
// flight. The drain is bounded in bytes and by the read timeout.
constexpr std::size_t kDrainLimitBytes = 64u << 20;
constexpr std::size_t kDrainChunkBytes = 64 * 1024;
static_assert(kFirstReadBytes > 0 && kDrainChunkBytes > 0 && kDrainLimitBytes >= kDrainChunkBytes);
// A connection over http.max_connections keeps only this much buffer while its request header is
// read and its rest drained: a flood of refused connections pins little memory.
constexpr std::size_t kRefusedDrainChunkBytes = 4 * 1024;
// After a failed accept (EMFILE when out of descriptors, ENOBUFS, ...) the listener waits this long
// before accepting again: retrying at once would spin a core while nothing has changed.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
static_assert(kRefusedDrainChunkBytes > 0 && kAcceptRetryDelay.count() > 0);

// ------------------------------------------------------------------------------------------------
// Request body: Beast appends the body straight into the connection's PaddedBuffer, which simdjson
// then parses in place (no copy into a padded string, no allocation once the buffer has grown).

struct PaddedBody {
  using value_type = codec::PaddedBuffer*;

  class reader {
   public:
    // Beast constructs the reader together with the parser, before the session has pointed the
    // message body at the connection's buffer: keep the pointer, dereference it only when used.
    template <bool kIsRequest, class Fields>
    reader(bhttp::header<kIsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& content_length, beast::error_code& ec) {
      // The parser has already checked content_length against body_limit.
      if (content_length) {
        body_->reserve(static_cast<std::size_t>(*content_length));
      }
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      std::size_t bytes = 0;
      for (const net::const_buffer buffer : beast::buffers_range_ref(buffers)) {
        body_->append(static_cast<const char*>(buffer.data()), buffer.size());
        bytes += buffer.size();
      }
      ec = {};
      return bytes;
    }

    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

HttpMethod method_of(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return HttpMethod::kGet;
    case bhttp::verb::head:
      return HttpMethod::kHead;
    case bhttp::verb::post:
      return HttpMethod::kPost;
    case bhttp::verb::put:
      return HttpMethod::kPut;
    case bhttp::verb::delete_:
      return HttpMethod::kDelete;
    case bhttp::verb::patch:
      return HttpMethod::kPatch;
    case bhttp::verb::options:
      return HttpMethod::kOptions;
    default:
      return HttpMethod::kOther;
  }
}

std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Closes both directions; errors are moot (the peer may be gone already). A TLS connection ends
// without close_notify: every reply is framed by Content-Length, so the client loses nothing.
template <typename Stream>
void close_stream(Stream& stream) {
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream).socket().close(ignored);
}

// After a reply with Connection: close: reads and discards until the client closes, the byte
// bound, or the stream's deadline (set by the caller), then closes, so that unread request bytes
// do not turn our close into a reset that loses the reply. `owner` keeps the stream and `chunk`
// alive across the reads.
template <typename Owner, typename Stream>
void drain_then_close(std::shared_ptr<Owner> owner, Stream& stream, net::mutable_buffer chunk,
                      std::size_t drained = 0) {
  stream.async_read_some(chunk, [owner = std::move(owner), &stream, chunk, drained](
                                    beast::error_code ec, std::size_t bytes) mutable {
    drained += bytes;
    if (ec || drained >= kDrainLimitBytes) {
      return close_stream(stream);
    }
    drain_then_close(std::move(owner), stream, chunk, drained);
  });
}

// What a deferred reply needs of its session, whatever the session's stream.
class DeferredTarget {
 public:
  virtual ~DeferredTarget() = default;
  // Runs fill on the connection's strand and writes the reply.
  virtual void post_finish(std::function<void(RouteReply&)> fill) = 0;
};

// A deferred reply (a bind waiting on the API server) holds its session from a thread the server
// does not own. stop() takes those sessions back before the io_context goes, so a reply finished
// late can neither post to a destroyed context nor close a socket after its reactor is gone.
class DeferredSessions {
 public:
  using Slot = std::list<std::shared_ptr<DeferredTarget>>::iterator;

  // Empty once closed: the session is then dropped on the I/O thread that deferred it.
  std::optional<Slot> hold(std::shared_ptr<DeferredTarget> session) {
    const std::lock_guard lock(mutex_);
    if (closed_) {
      return std::nullopt;
    }
    return held_.insert(held_.end(), std::move(session));
  }

  // Takes the session out of its slot and hands it to `post` under the lock, so close() cannot
  // run between; does nothing once closed (close() took the session).
  template <typename Post>
  void release(Slot slot, Post&& post) {
    const std::lock_guard lock(mutex_);
    if (closed_) {
      return;
    }
    std::shared_ptr<DeferredTarget> session = std::move(*slot);
    held_.erase(slot);
    std::forward<Post>(post)(std::move(session));
  }

  std::list<std::shared_ptr<DeferredTarget>> close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    return std::move(held_);
  }

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::list<std::shared_ptr<DeferredTarget>> held_;
};

// The handle a deferring handler keeps: finish() hops onto the connection's strand.
class Deferred final : public DeferredReply {
 public:
  Deferred(std::shared_ptr<DeferredSessions> registry, std::shared_ptr<DeferredTarget> session)
      : registry_(std::move(registry)), slot_(registry_->hold(std::move(session))) {}
  ~Deferred() override {
    finish([](RouteReply& reply) {
      reply.body.assign(R"({"Error":"internal error: the reply was never finished"})");
      reply.outcome = metrics::Outcome::kError;
    });
  }
  void finish(std::function<void(RouteReply&)> fill) override {
    if (!slot_) {
      return;  // finished already
    }
    const DeferredSessions::Slot slot = *slot_;
    slot_.reset();
    registry_->release(slot, [&fill](std::shared_ptr<DeferredTarget> session) {
      session->post_finish(std::move(fill));
    });
  }

 private:
  std::shared_ptr<DeferredSessions> registry_;
  std::optional<DeferredSessions::Slot> slot_;
};

// What every session needs from the server; lives in HttpServer::Impl, which outlives the sessions.
struct SessionEnv {
  std::shared_ptr<DeferredSessions> deferred;  // shared: a deferred reply may outlive the server
  const RouteTable& routes;
  metrics::Metrics& metrics;
  std::size_t body_limit_bytes;
  std::uint32_t header_limit_bytes;
  std::chrono::milliseconds idle_timeout;
  std::chrono::milliseconds read_timeout;
  // Sessions alive now: raised by the listener before a Session is made, lowered by its destructor.
  std::atomic<std::size_t>& open_connections;
  // RefusedConnections alive now, counted the same way.
  std::atomic<std::size_t>& refusing_connections;
};

void observe_limit(metrics::Metrics& metrics, metrics::Limit limit) {
  try {
    metrics.observe_limit(limit);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "epc-extender http: metrics: %s\n", e.what());
  }
}

// The response every write of this file sends: status, content type, keep-alive or close, and the
// body as a span (the caller keeps it alive until the write completes).
void prepare_response(bhttp::response<bhttp::span_body<char>>& response, unsigned status,
                      std::string_view content_type, std::string& body, bool close) {
  response.result(static_cast<bhttp::status>(status));
  response.version(11);
  response.set(bhttp::field::content_type,
               beast::string_view(content_type.data(), content_type.size()));
  response.keep_alive(!close);
  response.body() = bhttp::span_body<char>::value_type(body.data(), body.size());
  response.prepare_payload();
}

// --------------------------------------------------------------------------------------------------
// Session: one connection. Owns only connection state (stream, read buffer, parser, reply, the
// reused ConnectionContext); every completion handler runs on the connection's strand.

template <typename Stream>
class Session : public DeferredTarget, public std::enable_shared_from_this<Session<Stream>> {
 public:
  // The listener has counted this connection in env.open_connections already. `tls` (TLS only)
  // is the context the connection was accepted with; it stays with the connection.
  Session(tcp::socket&& socket, std::shared_ptr<net::ssl::context> tls, const SessionEnv& env)
      : tls_(std::move(tls)),
        stream_(make_stream<Stream>(std::move(socket), tls_.get())),
        env_(env),
        context_(env.body_limit_bytes) {
    buffer_.reserve(kReadBufferBytes);
  }
  ~Session() override { env_.open_connections.fetch_sub(1, std::memory_order_relaxed); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run() {
    if constexpr (kIsTls<Stream>) {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&Session::do_handshake, this->shared_from_this()));
    } else {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&Session::do_read, this->shared_from_this()));
    }
  }

  void post_finish(std::function<void(RouteReply&)> fill) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), fill = std::move(fill)] {
      self->finish_deferred(fill);
    });
  }

 private:
  auto& lowest() { return beast::get_lowest_layer(stream_); }

  // The handshake is bounded like a request: a client that connects and stalls, or speaks plain
  // HTTP to the TLS port, is counted and closed.
  void do_handshake() {
    lowest().expires_after(env_.read_timeout);
    stream_.async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&Session::on_handshake, this->shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      observe_limit(env_.metrics, metrics::Limit::kHttpTlsHandshake);
      return close();
    }
    do_read();
  }

  // Limits are set where each message starts (a fresh parser per message).
  void do_read() {
    parser_.emplace();
    // Bigger bodies are refused (200 + Error) instead of buffered: bounds memory per connection.
    parser_->body_limit(env_.body_limit_bytes);
    parser_->header_limit(env_.header_limit_bytes);
    context_.request_body.clear();
    parser_->get().body() = &context_.request_body;

    if (buffer_.size() > 0) {
      read_message();  // the next (pipelined) request has already begun
      return;
    }
    // Between requests the connection may idle this long (kube-scheduler keeps up to 2 idle
    // connections for 90 s; closing first would make its next POST fail with EOF).
    lowest().expires_after(env_.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        beast::bind_front_handler(&Session::on_first_bytes, this->shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t bytes) {
    if (ec) {
      return close();  // idle timeout, client closed, reset: nothing to answer
    }
    buffer_.commit(bytes);
    read_message();
  }

  void read_message() {
    // Once a request has begun it must arrive whole within the read timeout: a client that sends
    // headers and stalls cannot hold the connection (and its buffers) forever.
    lowest().expires_after(env_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == beast::error::timeout) {
      // A request begun and not finished within the read timeout: a slow or stalled client.
      observe_limit(env_.metrics, metrics::Limit::kHttpReadTimeout);
      return close();
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      observe_limit(env_.metrics, metrics::Limit::kHttpBodySize);
      return refuse(200, "request body exceeds the limit of " +
                             std::to_string(env_.body_limit_bytes) + " bytes (http.body_limit)");
    }
    if (ec == bhttp::error::header_limit) {
      observe_limit(env_.metrics, metrics::Limit::kHttpHeaderSize);
      return refuse(431, "request header exceeds the limit of " +
                             std::to_string(env_.header_limit_bytes) +
                             " bytes (http.header_limit)");
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
      return refuse(400, "malformed HTTP request: " + ec.message());
    }
    if (ec) {
      return close();  // connection reset and other transport errors
    }
    handle_request();
  }

  void handle_request() {
    const auto& request = parser_->get();
    const auto started = std::chrono::steady_clock::now();
    const std::string_view target = to_std(request.target());
    const RouteRequest route_request{method_of(request.method()), path_of(target), target,
                                     context_.request_body, context_};
    context_.reply_body.clear();
    RouteReply reply(context_.reply_body);
    bool deferred = false;
    reply.defer = [this, &deferred]() -> std::shared_ptr<DeferredReply> {
      deferred = true;
      return std::make_shared<Deferred>(env_.deferred, this->shared_from_this());
    };
    const metrics::Verb verb = env_.routes.dispatch(route_request, reply);
    if (deferred) {
      deferred_verb_ = verb;
      deferred_started_ = started;
      deferred_close_ = !request.keep_alive();
      return;  // Deferred::finish writes the reply
    }
    observe(verb, reply.outcome, seconds_since(started));
    write_reply(reply.status, reply.content_type, !request.keep_alive(), /*drain=*/false);
  }

  void finish_deferred(const std::function<void(RouteReply&)>& fill) {
    context_.reply_body.clear();
    RouteReply reply(context_.reply_body);
    try {
      fill(reply);
    } catch (const std::exception& e) {
      reply.status = 200;
      reply.body.assign(R"({"Error":"internal error"})");
      reply.outcome = metrics::Outcome::kError;
    }
    observe(deferred_verb_, reply.outcome, seconds_since(deferred_started_));
    write_reply(reply.status, reply.content_type, deferred_close_, /*drain=*/false);
  }

  // Answers a request that never reached its handler, then closes the connection (the stream is in
  // an unknown position inside the refused message).
  void refuse(unsigned status, std::string message) {
    const auto started = std::chrono::steady_clock::now();
    HttpMethod method = HttpMethod::kOther;
    std::string_view path;
    // The request line (method, target) is stored as soon as it is parsed, before the header
    // completes; an oversized Content-Length is refused right at the end of the header.
    if (parser_) {
      method = method_of(parser_->get().method());
      path = path_of(to_std(parser_->get().target()));
    }
    context_.reply_body.clear();
    RouteReply reply(context_.reply_body);
    reply.status = status;
    const metrics::Verb verb = env_.routes.reject(method, path, message, reply);
    observe(verb, metrics::Outcome::kError, seconds_since(started));
    write_reply(reply.status, reply.content_type, /*close=*/true, /*drain=*/true);
  }

  void observe(metrics::Verb verb, metrics::Outcome outcome, double seconds) {
    try {
      env_.metrics.observe_request(verb, outcome, seconds);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "epc-extender http: metrics: %s\n", e.what());
    }
  }

  // Status line, headers and body go out in one gather write (with TCP_NODELAY: no Nagle stall).
  void write_reply(unsigned status, std::string_view content_type, bool close, bool drain) {
    response_.emplace();
    prepare_response(*response_, status, content_type, context_.reply_body, close);
    // A client that does not read its reply is cut off like a slow sender.
    lowest().expires_after(env_.read_timeout);
    bhttp::async_write(
        stream_, *response_,
        beast::bind_front_handler(&Session::on_write, this->shared_from_this(), close, drain));
  }

  void on_write(bool close_after, bool drain, beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == beast::error::timeout) {
        observe_limit(env_.metrics, metrics::Limit::kHttpReadTimeout);  // the reply was not taken
      }
      return close();
    }
    if (!close_after) {
      return do_read();
    }
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (drain) {
      drain_buffer_.resize(kDrainChunkBytes);
      // One deadline for the whole drain: a client trickling bytes cannot extend it.
      lowest().expires_after(env_.read_timeout);
      return drain_then_close(this->shared_from_this(), stream_, net::buffer(drain_buffer_));
    }
    close();
  }

  void close() { close_stream(stream_); }

  std::shared_ptr<net::ssl::context> tls_;  // before stream_, which refers to it
  Stream stream_;
  const SessionEnv& env_;
  beast::flat_buffer buffer_;
  ConnectionContext context_;
  std::optional<bhttp::request_parser<PaddedBody>> parser_;
  std::optional<bhttp::response<bhttp::span_body<char>>> response_;
  std::vector<char> drain_buffer_;
  // The request whose reply a handler deferred.
  metrics::Verb deferred_verb_ = metrics::Verb::kOther;
  std::chrono::steady_clock::time_point deferred_started_;
  bool deferred_close_ = false;
};

// --------------------------------------------------------------------------------------------------
// RefusedConnection: a connection accepted over http.max_connections. Its request header is read
// (so the reply names the verb's error form and the client, which has written its request, reads
// an answer rather than a reset), it is answered 503 with Retry-After and closed, and whatever
// else it sent is drained. It is not counted among the open connections; its buffers are bounded
// (the header limit and a small chunk) and the read timeout bounds its whole life. The listener
// keeps at most http.max_connections of them too, and closes connections beyond that at once.

template <typename Stream>
class RefusedConnection : public std::enable_shared_from_this<RefusedConnection<Stream>> {
 public:
  // The listener has counted this connection in env.refusing_connections already.
  RefusedConnection(tcp::socket&& socket, std::shared_ptr<net::ssl::context> tls,
                    const SessionEnv& env, std::size_t limit)
      : tls_(std::move(tls)),
        stream_(make_stream<Stream>(std::move(socket), tls_.get())),
        env_(env),
        limit_(limit),
        buffer_(std::size_t{env.header_limit_bytes} + kRefusedDrainChunkBytes) {}
  ~RefusedConnection() { env_.refusing_connections.fetch_sub(1, std::memory_order_relaxed); }
  RefusedConnection(const RefusedConnection&) = delete;
  RefusedConnection& operator=(const RefusedConnection&) = delete;

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&RefusedConnection::start, this->shared_from_this()));
  }

 private:
  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void start() {
    // One deadline for the handshake, the header, the reply and the drain.
    lowest().expires_after(env_.read_timeout);
    if constexpr (kIsTls<Stream>) {
      stream_.async_handshake(
          net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) {
              observe_limit(self->env_.metrics, metrics::Limit::kHttpTlsHandshake);
              return self->close();
            }
            self->do_read();
          });
    } else {
      do_read();
    }
  }

  void do_read() {
    parser_.header_limit(env_.header_limit_bytes);
    bhttp::async_read_header(
        stream_, buffer_, parser_,
        beast::bind_front_handler(&RefusedConnection::on_header, this->shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::ssl::error::stream_truncated) {
      return close();  // nothing to answer: the client sent nothing or went away
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string message = "too many connections to the extender (http.max_connections " +
                                std::to_string(limit_) + "); retry shortly";
    RouteReply reply(body_);
    reply.status = 503;
    metrics::Verb verb = metrics::Verb::kOther;
    if (!ec) {
      verb = env_.routes.reject(method_of(parser_.get().method()),
                                path_of(to_std(parser_.get().target())), message, reply);
    } else {
      write_error_json(message, body_);  // a malformed header: no route to take the form from
      reply.content_type = "application/json";
    }
    try {
      env_.metrics.observe_request(verb, metrics::Outcome::kError, seconds_since(started));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "epc-extender http: metrics: %s\n", e.what());
    }
    prepare_response(response_, 503, reply.content_type, body_, /*close=*/true);
    response_.set(bhttp::field::retry_after, "1");
    bhttp::async_write(
        stream_, response_,
        beast::bind_front_handler(&RefusedConnection::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) {
      return close();
    }
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    // Under the deadline set in do_read.
    drain_then_close(this->shared_from_this(), stream_, net::buffer(drain_buffer_));
  }

  void close() { close_stream(stream_); }

  std::shared_ptr<net::ssl::context> tls_;  // before stream_, which refers to it
  Stream stream_;
  const SessionEnv& env_;
  const std::size_t limit_;
  beast::flat_buffer buffer_;  // its maximum size bounds what the header read may buffer
  bhttp::request_parser<bhttp::empty_body> parser_;
  std::string body_;
  bhttp::response<bhttp::span_body<char>> response_;
  std::array<char, kRefusedDrainChunkBytes> drain_buffer_{};
};

}  // namespace

// --------------------------------------------------------------------------------------------------
// Server state shared by the listener and the sessions.

struct HttpServer::Impl {
  Impl(const config::ExtenderConfig& server_config, metrics::Metrics& server_metrics)
      : config(server_config),
        metrics(server_metrics),
        env{std::make_shared<DeferredSessions>(),
            routes,
            metrics,
            config.http_body_limit_bytes,
            static_cast<std::uint32_t>(
                std::min<std::size_t>(config.http_header_limit_bytes, UINT32_MAX)),
            std::chrono::milliseconds(config.http_idle_timeout_ms),
            std::chrono::milliseconds(config.http_read_timeout_ms),
            open_connections,
            refusing_connections},
        ioc(std::in_place, std::max(1, server_config.http_threads)) {}

  config::ExtenderConfig config;
  metrics::Metrics& metrics;
  std::unique_ptr<TlsContext> tls;  // null: plain text
  RouteTable routes;                // read-only once started
  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::size_t> refusing_connections{0};
  SessionEnv env;
  std::atomic<bool> serving{false};
  bool started = false;
  std::uint16_t port = 0;
  // Declared after everything the sessions use, so they are destroyed first; reset in stop() to
  // destroy the pending handlers and with them every session and socket.
  std::optional<net::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_retry;  // waits out a failed accept
  // Set while connections are being refused, so the log says so once per episode, not per
  // connection (the counter has the number). Accept handler only.
  bool refusing_logged = false;
  std::vector<std::thread> threads;

  common::Result<bool> listen();
  template <typename Stream>
  void serve(tcp::socket socket, bool over_limit);
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void run_io_thread();
};

// --------------------------------------------------------------------------------------------------
// Listener

common::Result<bool> HttpServer::Impl::listen() {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(config.http_address, ec);
  if (ec) {
    return common::Error{"invalid http_address '" + config.http_address + "': " + ec.message()};
  }
  const tcp::endpoint endpoint(address, config.http_port);
  const std::string where = config.http_address + ":" + std::to_string(config.http_port);
  acceptor.emplace(*ioc);
  if (acceptor->open(endpoint.protocol(), ec); ec) {
    return common::Error{"cannot open HTTP socket for " + where + ": " + ec.message()};
  }
  if (acceptor->set_option(net::socket_base::reuse_address(true), ec); ec) {
    return common::Error{"cannot set SO_REUSEADDR on " + where + ": " + ec.message()};
  }
  if (acceptor->bind(endpoint, ec); ec) {
    return common::Error{"cannot bind HTTP listener to " + where + ": " + ec.message()};
  }
  if (acceptor->listen(net::socket_base::max_listen_connections, ec); ec) {
    return common::Error{"cannot listen on " + where + ": " + ec.message()};
  }
  port = acceptor->local_endpoint(ec).port();
  if (ec) {
    return common::Error{"cannot read the bound port of " + where + ": " + ec.message()};
  }
  return true;
}

void HttpServer::Impl::do_accept() {
  // Each connection gets its own strand: its handlers never run concurrently, whatever the number
  // of I/O threads.
  acceptor->async_accept(net::make_strand(*ioc),
                         beast::bind_front_handler(&HttpServer::Impl::on_accept, this));
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor || !acceptor->is_open()) {
    return;  // stopping
  }
  if (ec) {
    // Out of descriptors or buffers: the condition lasts until connections close, so wait a
    // little instead of failing the same accept in a tight loop.
    std::fprintf(stderr, "epc-extender http: accept: %s (retrying in %lld ms)\n",
                 ec.message().c_str(), static_cast<long long>(kAcceptRetryDelay.count()));
    accept_retry.emplace(*ioc, kAcceptRetryDelay);
    accept_retry->async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor && acceptor->is_open()) {
        do_accept();
      }
    });
    return;
  }
  // Without TCP_NODELAY a reply can wait ~40 ms for the client's delayed ACK (DESIGN §5).
  beast::error_code option_ec;
  socket.set_option(tcp::no_delay(true), option_ec);
  // Only this handler raises the count (one accept is outstanding at a time), so the test and the
  // increment cannot race past the limit; sessions lower it from any thread as they end.
  const bool over_limit =
      open_connections.load(std::memory_order_relaxed) >= config.http_max_connections;
  if (over_limit) {
    observe_limit(metrics, metrics::Limit::kHttpConnections);
    if (!refusing_logged) {
      refusing_logged = true;
      std::fprintf(stderr,
                   "epc-extender http: %zu connections open (http.max_connections): answering "
                   "new ones 503 until some close\n",
                   config.http_max_connections);
    }
  } else {
    refusing_logged = false;
  }
  if (tls) {
    tls->refresh(std::chrono::steady_clock::now());
    serve<TlsStream>(std::move(socket), over_limit);
  } else {
    serve<PlainStream>(std::move(socket), over_limit);
  }
  do_accept();
}

template <typename Stream>
void HttpServer::Impl::serve(tcp::socket socket, bool over_limit) {
  std::shared_ptr<net::ssl::context> context = tls ? tls->current() : nullptr;
  if (!over_limit) {
    open_connections.fetch_add(1, std::memory_order_relaxed);
    std::make_shared<Session<Stream>>(std::move(socket), std::move(context), env)->run();
  } else if (refusing_connections.load(std::memory_order_relaxed) < config.http_max_connections) {
    refusing_connections.fetch_add(1, std::memory_order_relaxed);
    std::make_shared<RefusedConnection<Stream>>(std::move(socket), std::move(context), env,
                                                config.http_max_connections)
        ->run();
  } else {
    // As many refusals in progress as connections served: a flood. Closing at once keeps its
    // cost to the accept; a well-behaved client never gets here.
    beast::error_code ignored;
    socket.close(ignored);
  }
}

void HttpServer::Impl::run_io_thread() {
  // Handlers do not throw by design; should one still do so (e.g. out of memory), log it and keep
  // this thread serving rather than letting the exception end the process.
  for (;;) {
    try {
      ioc->run();
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "epc-extender http: I/O thread: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "epc-extender http: I/O thread: unknown exception\n");
    }
  }
}

// --------------------------------------------------------------------------------------------------
// HttpServer

common::Result<std::unique_ptr<HttpServer>> HttpServer::create(const config::ExtenderConfig& config,
                                                               state::ClusterState& state,
                                                               metrics::Metrics& metrics,
                                                               BindPort* binder) {
  auto impl = std::make_unique<Impl>(config, metrics);
  if (!config.http_tls_cert_file.empty()) {
    auto tls = TlsContext::create(
        {config.http_tls_cert_file, config.http_tls_key_file, config.http_tls_client_ca_file},
        std::chrono::milliseconds(config.tls_reload_period_ms));
    if (!tls.ok()) {
      return tls.error();
    }
    impl->tls = std::move(tls).value();
  }
  if (auto listening = impl->listen(); !listening.ok()) {
    return listening.error();
  }
  Impl* raw = impl.get();
  add_extender_routes(
      impl->routes, config, state, metrics,
      [raw] { return raw->serving.load(std::memory_order_acquire); }, binder);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->port; }

RouteTable& HttpServer::routes() { return impl_->routes; }

bool HttpServer::serving() const { return impl_->serving.load(std::memory_order_acquire); }

void HttpServer::start() {
  Impl& impl = *impl_;
  if (impl.started || !impl.ioc) {
    return;
  }
  impl.started = true;
  impl.serving.store(true, std::memory_order_release);
  impl.do_accept();
  const int threads = std::max(1, impl.config.http_threads);
  impl.threads.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    impl.threads.emplace_back([&impl] { impl.run_io_thread(); });
  }
}

void HttpServer::stop() {
  Impl& impl = *impl_;
  impl.serving.store(false, std::memory_order_release);
  if (!impl.ioc) {
    return;
  }
  impl.ioc->stop();
  for (std::thread& thread : impl.threads) {
    thread.join();
  }
  impl.threads.clear();
  // Sessions whose reply a handler deferred go while their io_context still exists; a reply
  // finished after this point is dropped.
  impl.env.deferred->close().clear();
  // Destroying the acceptor and then the io_context destroys every pending handler, and with them
  // the sessions: their sockets close, so clients see the connection end.
  impl.accept_retry.reset();
  impl.acceptor.reset();
  impl.ioc.reset();
}

}  // namespace epc::http
