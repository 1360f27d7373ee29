#pragma once

#include <cstdint>

namespace epc::metrics {

// The input bounds of the extender (docs/operations.md, "Bounds"): each one a configured limit
// whose hits are counted in epc_extender_limit_rejections_total{limit}. A plain enum with no
// dependencies, so the HTTP server, the report service and the Kubernetes client name a hit the
// same way without knowing about Prometheus.
enum class Limit : std::uint8_t {
  kHttpConnections,   // http.max_connections: a connection over it got 503 and was closed
  kHttpHeaderSize,    // http.header_limit: 431, then close
  kHttpBodySize,      // http.body_limit: the route's Error reply, then close
  kHttpReadTimeout,   // http.read_timeout: a request not received whole (or a reply not taken)
  kHttpTlsHandshake,  // http.tls: a TLS handshake that failed or did not end within read_timeout
  kGrpcStreams,       // grpc.max_streams: a stream over it ended with RESOURCE_EXHAUSTED
  kGrpcStreamRate,    // grpc.stream_max_rate/stream_burst: the stream ended, RESOURCE_EXHAUSTED
  kGrpcStreamNodes,   // grpc.stream_max_nodes: a report for one node too many got an error Ack
  kKubeWatchEvent,    // kube.max_watch_event_size: the watch ended; relist after backoff
  kKubeResponseSize,  // kube.max_response_size: the request failed (a list retries after backoff)
};

inline constexpr int kLimitCount = 10;
static_assert(static_cast<int>(Limit::kKubeResponseSize) + 1 == kLimitCount,
              "kLimitCount must follow the last Limit");

}  // namespace epc::metrics
