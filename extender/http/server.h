#pragma once

#include <cstdint>
#include <memory>

#include "common/result.h"
#include "extender/config/extender_config.h"
#include "extender/http/bind_port.h"
#include "extender/http/router.h"
#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"

namespace epc::http {

// The kube-scheduler-facing HTTP/1.1 server (Boost.Beast; Beast stays inside server.cc).
//
// - Listens on config.http_address:config.http_port (port 0 = an ephemeral port, see port()).
// - Serves the routes of add_extender_routes() plus any added through routes() before start().
// - HTTP/1.1 keep-alive; one strand per connection; the request parser is re-created per message
//   with body_limit = config.http_body_limit_bytes (a larger body gets HTTP 200 with the route's
//   Error reply, then the connection closes); a request in flight must arrive whole within
//   config.http_read_timeout_ms; an idle keep-alive connection is closed after
//   config.http_idle_timeout_ms (keep it above Go's 90 s so the client closes first).
// - A request line or header fields over config.http_header_limit_bytes (each; Beast's parser
//   counts them apart) get 431, then the connection closes.
// - At most config.http_max_connections connections are served at once; one accepted beyond that
//   has its request header read, gets 503 (the route's error form, Retry-After: 1) and is closed;
//   while as many such refusals as the limit are in progress, further ones are closed at once.
//   A failed accept (out of descriptors) is retried after a short pause, never in a tight loop.
// - HTTPS when config.http_tls_cert_file is set (TLS 1.2+, see TlsContext): the handshake must
//   finish within config.http_read_timeout_ms; a failed one is counted (Limit::kHttpTlsHandshake)
//   and the connection closed. With config.http_tls_client_ca_file only clients with a certificate
//   that CA signed are served. The files are looked at again on an accept at most every
//   config.tls_reload_period_ms; open connections keep the certificate they started with.
// - TCP_NODELAY on every accepted socket and each reply leaves in one write (spec §1, DESIGN §5).
// - metrics.observe_request(verb, outcome, seconds) once per request (handler time);
//   metrics.observe_limit(limit) for each body, header, connection or read-timeout bound hit.
//
// Thread-safety: create/start/stop from one controlling thread; requests run on
// config.http_threads I/O threads. `state` and `metrics` must outlive the server.
class HttpServer {
 public:
  // Opens, binds and listens (errors such as "address in use" are values); does not serve yet.
  // `binder` serves the bind verb (binding mode); null: bind answers that it is not configured.
  static common::Result<std::unique_ptr<HttpServer>> create(const config::ExtenderConfig& config,
                                                            state::ClusterState& state,
                                                            metrics::Metrics& metrics,
                                                            BindPort* binder = nullptr);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the ephemeral one when the config said 0).
  std::uint16_t port() const;

  // Extra routes (tests, benchmarks: e.g. a null handler). Only before start().
  RouteTable& routes();

  // Starts accepting and the I/O threads. Call once.
  void start();
  // Stops accepting, closes every connection and joins the I/O threads. Idempotent; the server
  // cannot be restarted.
  void stop();
  // True between start() and stop().
  bool serving() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::http
