#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "extender/core/pod_mix.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::config {

// Everything the extender can be told. Defaults are the documented defaults (`epc-extender
// --help`).
struct ExtenderConfig {
  // HTTP (kube-scheduler side).
  std::string http_address = "127.0.0.1";
  std::uint16_t http_port = 8888;
  std::string url_prefix = "/sgx";               // serves <prefix>/filter and <prefix>/prioritize
  std::size_t http_body_limit_bytes = 8u << 20;  // larger bodies get an Error reply, not a crash
  std::int64_t http_read_timeout_ms = 10000;     // a request must arrive whole within this
  std::int64_t http_idle_timeout_ms = 120000;    // > Go's 90 s idle: the client closes first
  int http_threads = 1;
  // Open connections at most; one more is answered 503 and closed. kube-scheduler keeps a couple
  // of keep-alive connections per extender, probes and Prometheus one each at a time: 256 is far
  // above any legitimate use and bounds the memory a connection flood can pin (each connection
  // keeps its buffers and JSON parser).
  std::size_t http_max_connections = 256;
  // Largest request header: the request line and the header fields are each bounded by it (Beast's
  // parser counts them apart); larger ones get 431 and the connection closes. kube-scheduler's
  // whole header is a few hundred bytes.
  std::size_t http_header_limit_bytes = 16u << 10;
  // TLS (kube-scheduler's extenders[].tlsConfig verifies this certificate with caData/caFile).
  // Certificate and key together, PEM; empty = plain text, which is served on a loopback address
  // only unless http_insecure says otherwise. The files are re-read when they change
  // (tls_reload_period_ms), without dropping connections.
  std::string http_tls_cert_file;
  std::string http_tls_key_file;
  // Set: only clients presenting a certificate this CA signed are served (kube-scheduler's
  // tlsConfig certData/keyData); the handshake of any other client fails.
  std::string http_tls_client_ca_file;
  bool http_insecure = false;  // plain text on a non-loopback address, knowingly

  // gRPC (device plugin side).
  std::string grpc_address = "127.0.0.1:9090";
  std::size_t grpc_max_message_bytes = 4u << 20;
  // Unacknowledged messages per plugin stream before the extender stops reading it (back-pressure
  // against a sender that floods faster than the state writer applies).
  std::size_t grpc_stream_max_in_flight = 32;
  // Report streams open at once, over all plugins; one more ends at once with RESOURCE_EXHAUSTED
  // (the plugin retries with backoff). A plugin keeps one stream per extender replica: 10000
  // covers a 5000-node cluster (Kubernetes' tested maximum) twice over, e.g. while restarted
  // plugins' old streams are not yet known to be dead.
  std::size_t grpc_max_streams = 10000;
  // Messages per second one stream may send, sustained (a token bucket of grpc_stream_burst
  // messages); a stream over it ends with RESOURCE_EXHAUSTED after its earlier messages are
  // acknowledged, and its plugin reconnects with backoff and resends a snapshot. A plugin sends a
  // heartbeat every 10 s and a change per pod start or stop: 50/s with a burst of 500 is never
  // reached by one. 0 = no limit (load tests that put a whole fleet on one stream).
  std::int64_t grpc_stream_max_rate = 50;
  std::int64_t grpc_stream_burst = 500;
  // Distinct node names one stream may report for; a report for one more gets an error Ack and
  // changes nothing. Every plugin (and the demo's simulated fleet) reports its own node only on
  // each stream, so 1; epc-load, which puts a fleet on one stream, raises it.
  std::size_t grpc_stream_max_nodes = 1;
  // TLS of the report port: certificate and key together, PEM (re-read as the HTTP ones).
  std::string grpc_tls_cert_file;
  std::string grpc_tls_key_file;
  // How a plugin proves which node it reports for (docs/security.md): kNone accepts any report
  // (the demo, tests, a loopback-only extender); kToken wants the plugin's projected
  // ServiceAccount token, reviewed by kube-apiserver (TokenReview), and takes the node from it;
  // kMtls wants a client certificate grpc_tls_client_ca_file signed, CN "system:node:<node>".
  // Either way a stream may then report for its own node only.
  enum class GrpcAuth { kNone, kToken, kMtls };
  GrpcAuth grpc_auth = GrpcAuth::kNone;
  std::string grpc_tls_client_ca_file;  // kMtls: the CA of the plugins' certificates
  // kToken: the audience the plugins' tokens must be for (their projected volume's `audience`),
  // the service accounts allowed to report ("namespace/name"), and how long a reviewed token is
  // trusted before it is reviewed again (at most until it expires). kube-apiserver's own webhook
  // token cache keeps 2 minutes.
  std::string grpc_token_audience = "epc-extender";
  std::vector<std::string> grpc_token_service_accounts = {"sgx-system/epc-device-plugin"};
  std::int64_t grpc_token_cache_ttl_ms = 120000;
  // Plain text or grpc_auth none on a non-loopback address, knowingly (the demo's mode).
  bool grpc_insecure = false;

  // How often the TLS files (HTTP and gRPC) are checked for a change (cert-manager rotates them).
  std::int64_t tls_reload_period_ms = 10000;

  // Scheduling.
  core::score::PolicyKind policy = core::score::PolicyKind::kStrandingAware;
  core::score::ScoreWeights weights;
  core::PodRequestOptions pod_request;
  std::int64_t epc_headroom_bytes = 0;
  std::int64_t stale_after_ms = 30000;  // a node silent for longer is not trusted
  // FragmentationAware's memory of the pod mix: a pod seen this many SGX pods ago weighs half as
  // much as the latest one. Read by that policy only.
  std::int64_t mix_half_life_pods = static_cast<std::int64_t>(core::PodMix::kDefaultHalfLifePods);
  // When several nodes share the best score, only one (chosen by a hash of the pod's UID) keeps
  // 10 and the others get 9, so kube-scheduler's own resource scores do not pick among them
  // (core/score/top_tie_break.h; measured in docs/bin-packing.md).
  bool single_out_top_node = true;
  // The one-round-trip mode (kube-scheduler configured without the prioritize verb): filter keeps
  // only the k nodes that fit best by `policy`, so kube-scheduler scores k nodes instead of all of
  // them and our policy decides through the cut. 0 = filter keeps every node that fits.
  std::int64_t filter_top_k = 0;

  // Standard pod shapes for the placeable-pods metrics (EPC each, one enclave slot).
  std::vector<std::int64_t> capacity_shapes_epc_bytes = {
      std::int64_t{64} << 20, std::int64_t{256} << 20, std::int64_t{1} << 30,
      std::int64_t{4} << 30};

  // Scheduler requests remembered so their EPC can be matched to slot holders reported later.
  std::size_t request_memory_pods = 100000;

  // Kubernetes API: the pod and node watch that feeds the ledger, and the bind verb (binding
  // mode). Off unless a kubeconfig is given or in_cluster is set.
  std::string kube_kubeconfig;   // a kubeconfig file (outside the cluster)
  std::string kube_context;      // its context; empty = current-context
  bool kube_in_cluster = false;  // the pod's service account (KUBERNETES_SERVICE_HOST/PORT)
  double kube_qps = 50;          // client-side rate limit, as client-go's QPS/Burst
  std::int64_t kube_burst = 100;
  std::int64_t kube_request_timeout_ms = 15000;
  std::int64_t kube_bind_workers = 4;  // concurrent Binding POSTs
  // Largest watch event (one JSON line: one object) accepted; a larger one ends that watch and the
  // informer lists again after backoff (the event is lost, the list is not). etcd stores objects
  // of at most 1.5 MiB by default; 8 MiB leaves room for their JSON form.
  std::size_t kube_max_watch_event_bytes = 8u << 20;
  // Largest API response body accepted (a list page: at most 500 objects); a larger one fails that
  // request (a list retries after backoff).
  std::size_t kube_max_response_bytes = 256u << 20;
  // A bind's reservation counts until the watch confirms it, or this long at most.
  std::int64_t reservation_ttl_ms = 30000;
  // A pod seen only in filter/prioritize is remembered (a hint) this long (0 = until evicted).
  std::int64_t hint_ttl_ms = 300000;

  bool api_enabled() const { return kube_in_cluster || !kube_kubeconfig.empty(); }

  // Set by `--help`: the caller prints config::help_text() and exits 0 (nothing else is loaded).
  bool help_requested = false;
  // Set by `--check-config`: everything was loaded and validated; the caller says so and exits 0
  // without opening a port.
  bool check_requested = false;
};

}  // namespace epc::config
