#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "extender/kube/kube_config.h"
#include "extender/metrics/limit.h"

namespace epc::kube {

class RateLimiter;

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  std::int64_t retry_after_s = -1;  // the Retry-After header, -1 when absent
  // stream_lines only: a line longer than RestClientOptions::max_line_bytes ended the stream (the
  // line was not handed on; status is the stream's, 200).
  bool line_too_long = false;
};

struct RestClientOptions {
  std::string user_agent = "epc-extender";
  std::int64_t connect_timeout_ms = 5000;
  std::int64_t request_timeout_ms = 15000;  // one request, connect to last byte
  // Bounds (kube.max_response_size, kube.max_watch_event_size): no body or line is buffered
  // beyond them. A response body over max_body_bytes fails its request; a watch line over
  // max_line_bytes ends its stream. Each hit is reported to on_limit (may be empty).
  std::size_t max_body_bytes = std::size_t{256} << 20;  // list pages are bounded by `limit`
  std::size_t max_line_bytes = std::size_t{8} << 20;    // one watch event: one object
  std::function<void(metrics::Limit)> on_limit;
  RateLimiter* limiter = nullptr;  // shared by the process's clients; may be null
};

// One HTTP/1.1 keep-alive connection to kube-apiserver over TLS (Boost.Beast + OpenSSL; Beast stays
// in rest_client.cc). The server certificate is verified against the configured CA and the
// server name unless the configuration says insecure-skip-tls-verify. Bearer tokens from a file
// are re-read when the file changes. A request that fails on a reused connection before any reply
// arrived (the server closed it while idle) is retried once on a new connection.
//
// Thread-safety: one thread uses a client at a time; cancel() may be called from any thread.
class RestClient {
 public:
  static common::Result<std::unique_ptr<RestClient>> create(const KubeConfig& config,
                                                            RestClientOptions options);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // Transport failures (connect, TLS, timeout, cancel) are errors; any HTTP status is a response.
  common::Result<HttpResponse> get(std::string_view target);
  common::Result<HttpResponse> post(std::string_view target, std::string_view json_body);

  // GETs `target` and hands each line of the body to `on_line` as it arrives (a watch: one JSON
  // event per line, whatever the chunking). A non-200 answer is returned whole (up to
  // max_body_bytes), with on_line never called. For 200: the server ending the stream cleanly
  // returns the response (empty body); a line over max_line_bytes ends the stream and returns the
  // response with line_too_long set; a stream cut off, silent for `idle_timeout_ms`, cancelled, or
  // stopped by on_line returning false returns an error.
  // `on_open` (may be empty) runs once the status line is in, before any line.
  using LineHandler = std::function<bool(std::string_view line)>;
  using OpenHandler = std::function<void(unsigned status)>;
  common::Result<HttpResponse> stream_lines(std::string_view target, std::int64_t idle_timeout_ms,
                                            const LineHandler& on_line,
                                            const OpenHandler& on_open = {});

  // Makes the request or stream in flight (and every later one) fail promptly. Thread-safe.
  void cancel();

 private:
  struct Impl;
  explicit RestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::kube
