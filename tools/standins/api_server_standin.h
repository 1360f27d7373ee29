#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "tools/standins/service_account_tokens.h"
#include "tools/standins/test_certificates.h"

namespace epc::tools::standins {

// A pod as create_pod() makes it. The JSON follows kube-apiserver v1.32's (one container "main",
// the default tolerations, managedFields of kubectl-create); quantities are written as given, so
// pass canonical ones ("512Mi", not "0.5Gi").
struct PodSpec {
  std::string namespace_name = "default";
  std::string name;
  std::string uid;  // empty: a random UUID
  // sgx.intel.com/epc request = limit; empty: none.
  std::string epc;
  // sgx.intel.com/enclave; nullopt: 1 when epc is set, else none; 0: none.
  std::optional<int> enclave_slots;
  int provision_slots = 0;  // sgx.intel.com/provision; 0: none
  // Any other requests ("cpu": "100m", "kubernetes.azure.com/sgx_epc_mem_in_MiB": "10"). Names
  // with a '/' (extended resources) are written as limits too, as Kubernetes requires.
  std::map<std::string, std::string> extra_requests;
  std::map<std::string, std::string> labels;  // "app": name is always added
  std::int32_t priority = 0;                  // spec.priority
  std::string node_name;                      // empty: unbound; set: created bound (no binding)
  std::string scheduler_name = "default-scheduler";
  std::string phase = "Pending";
  std::int64_t termination_grace_period_seconds = 30;
  // Adds about this many bytes of realistic metadata (app.kubernetes.io labels, a
  // last-applied-configuration annotation, a second managedFields entry), so ingest benchmarks
  // see production-sized pods (3-5 KB) instead of 1.7 KB ones.
  std::size_t extra_bytes = 0;
};

// A node as add_node() makes it (spec {} or {"unschedulable":true}; status with capacity,
// allocatable, optional Ready condition, zero daemonEndpoints and nodeInfo, like the captures).
struct NodeSpec {
  std::string name;
  // e.g. {"sgx.intel.com/epc","8Gi"},{"sgx.intel.com/enclave","110"},{"cpu","8"}.
  std::map<std::string, std::string> capacity;
  std::optional<std::map<std::string, std::string>> allocatable;  // nullopt: = capacity
  std::map<std::string, std::string> labels;
  std::string ready;  // "True", "False", "Unknown"; empty: no conditions (as in the captures)
  bool unschedulable = false;
  std::string uid;  // empty: a random UUID
};

// What a successful binding changed, handed to the binding observer.
struct BindingRecord {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string node_name;
  std::uint64_t resource_version = 0;           // the pod's revision after the binding
  std::map<std::string, std::string> requests;  // the pod's requests, as in its JSON
};

// One pod as the store holds it now.
struct PodView {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string node_name;  // empty: unbound
  std::string phase;
  bool terminating = false;  // deletionTimestamp set
  std::uint64_t resource_version = 0;
  std::map<std::string, std::string> requests;
};

struct ApiServerCounters {
  std::size_t requests = 0;
  std::size_t lists = 0;    // pod and node lists, every page
  std::size_t watches = 0;  // watch requests accepted (200), too-old ones included
  std::size_t gets = 0;
  std::size_t binding_requests = 0;  // authorized binding POSTs
  std::size_t bindings = 0;          // of those, the ones that bound a pod (201)
  std::size_t open_watches = 0;      // streams open now
  std::size_t token_reviews = 0;     // authorized TokenReview POSTs
  std::map<int, std::size_t> responses_by_status;
};

enum class KubeconfigUser {
  kAdminToken,         // token: Options::admin_token
  kUnprivilegedToken,  // token: Options::unprivileged_token (403 on everything)
  kClientCertificate,  // client-certificate-data / client-key-data (admin through mTLS)
};

// A test kube-apiserver over real HTTPS on 127.0.0.1 (HTTP/1.1 only; ALPN never selects h2), for
// the tests of the extender's Kubernetes client and for the demo. It behaves as the v1.32.13 wire
// captures in shared/data/kube-apiserver show, for what it serves:
//   GET  /api/v1/pods, /api/v1/namespaces/NS/pods   list (limit/continue, resourceVersion,
//        resourceVersionMatch, fieldSelector) or watch (watch=1|true, resourceVersion,
//        allowWatchBookmarks, timeoutSeconds, sendInitialEvents, fieldSelector)
//   GET  /api/v1/nodes                               the same for nodes
//   GET  /api/v1/namespaces/NS/pods/NAME, /api/v1/nodes/NAME
//   POST /api/v1/namespaces/NS/pods/NAME/binding
//   POST /apis/authentication.k8s.io/v1/tokenreviews  of issue_service_account_token()'s tokens
// Everything else is a 404 (or 405 for a known path with another method) Status.
//
// Wire behaviour: compact JSON bodies ending in "\n"; list items without kind/apiVersion; bodies
// under 2048 bytes with Content-Length, bigger ones chunked (one chunk, as the server does, unless
// Options::list_chunk_bytes is set); watches chunked, one chunk per live event, the synthetic
// ADDEDs of a resourceVersion=0 watch packed into 2048-byte chunks and closed by the
// initial-events-end BOOKMARK when bookmarks are allowed; a watch from a revision older than the
// history kept gets 200 + one ERROR event (410 "too old resource version: X (Y)") and ends; a
// continue token whose snapshot is gone (compact(), restart()) gets HTTP 410 Expired; a list at a
// revision newer than the store's waits Options::too_large_rv_wait and answers 504. Bookmarks
// (allowWatchBookmarks=true) come every Options::bookmark_interval and once 2 s before
// timeoutSeconds, but only after the store's revision moved past the watch's start (29, 30, 31).
// Not served: labelSelector, protobuf, HTTP/2, and resourceVersionMatch=Exact at an older
// revision unless a paginated list kept that snapshot (else 410 as after compaction).
//
// Authentication: "Authorization: Bearer <admin_token>" or a client certificate signed by the
// test CA is admin (mTLS is optional: verify_peer without fail_if_no_peer_cert; a certificate the
// CA did not sign fails the handshake); the unprivileged token gets 403 with RBAC's wording; an
// unknown token gets 401; no credentials at all is system:anonymous (403).
//
// Revisions: one counter for pods and nodes, as etcd's. Writes from the test thread and binding
// POSTs take one mutex; each write is one event in the history (Options::history_size kept) and is
// queued to the matching open watches, whose I/O-thread sessions drain their queue.
//
// Thread-safety: every public function may be called from any thread, except that the binding
// observer runs under the store mutex and must not call back into the stand-in. Destruction stops
// the I/O thread and closes every connection.
class ApiServerStandin {
 public:
  struct Options {
    std::string admin_token = "admin-token";
    std::string unprivileged_token = "alice-token";
    std::string unprivileged_user = "alice";
    std::uint16_t port = 0;            // 0: ephemeral
    std::size_t history_size = 10000;  // events kept for watches from an older revision
    std::chrono::milliseconds bookmark_interval{1000};  // 0: no periodic bookmarks
    // Bodies smaller than this get Content-Length; others are chunked (watches always).
    std::size_t content_length_limit = 2048;
    // 0: a chunked non-watch body is one chunk (what kube-apiserver 1.32 does); else its size.
    std::size_t list_chunk_bytes = 0;
    std::size_t initial_events_chunk_bytes = 2048;  // chunks of the synthetic ADDEDs
    // A watch without timeoutSeconds ends after this (kube-apiserver: 30-60 min at random).
    std::chrono::seconds default_watch_timeout{1800};
    std::chrono::milliseconds too_large_rv_wait{3000};  // before the 504 (the real ~3 s)
    std::size_t body_limit_bytes = 4 << 20;
    std::uint64_t initial_resource_version = 100;
    TestCertificateOptions certificate_options;
  };

  // Generates the certificates, binds 127.0.0.1:port and starts the I/O thread.
  static common::Result<std::unique_ptr<ApiServerStandin>> start(Options options);
  static common::Result<std::unique_ptr<ApiServerStandin>> start() { return start(Options{}); }
  ~ApiServerStandin();
  ApiServerStandin(const ApiServerStandin&) = delete;
  ApiServerStandin& operator=(const ApiServerStandin&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:PORT"
  const TestCertificates& certificates() const;
  const Options& options() const;
  // A kubeconfig (one cluster, user and context, current-context set; CA and client key inline,
  // base64) for `user`.
  common::Result<std::monostate> write_kubeconfig(const std::string& path,
                                                  KubeconfigUser user) const;

  // ----- cluster content (one event each unless said otherwise)
  // ADDED. Returns the uid; an error when the pod exists or the name is empty.
  common::Result<std::string> create_pod(const PodSpec& spec);
  // MODIFIED with status.phase = phase.
  common::Result<std::monostate> set_pod_phase(const std::string& ns, const std::string& name,
                                               const std::string& phase);
  // Force delete: MODIFIED (deletionTimestamp now, deletionGracePeriodSeconds 0), then DELETED at
  // the next revision holding that last state.
  common::Result<std::monostate> delete_pod(const std::string& ns, const std::string& name);
  // Graceful delete without a kubelet: one MODIFIED (deletionTimestamp now + grace,
  // deletionGracePeriodSeconds grace); the pod stays until delete_pod().
  common::Result<std::monostate> mark_pod_terminating(const std::string& ns,
                                                      const std::string& name,
                                                      std::int64_t grace_seconds);
  common::Result<std::monostate> add_node(const NodeSpec& spec);  // ADDED
  // A status patch of allocatable: MODIFIED.
  common::Result<std::monostate> update_node_allocatable(
      const std::string& name, const std::map<std::string, std::string>& allocatable);
  // MODIFIED with the Ready condition set to status ("" removes the conditions).
  common::Result<std::monostate> set_node_ready(const std::string& name, const std::string& status);
  common::Result<std::monostate> delete_node(const std::string& name);  // DELETED

  // A projected service-account token for a pod (see ServiceAccountTokens), which TokenReview
  // then authenticates until it expires or is revoked.
  std::string issue_service_account_token(const ServiceAccountTokenSpec& spec);
  void revoke_service_account_token(const std::string& token);

  // ----- queries
  std::optional<std::string> pod_node(const std::string& ns, const std::string& name) const;
  std::optional<PodView> pod(const std::string& ns, const std::string& name) const;
  std::vector<PodView> pods() const;  // by namespace, then name
  std::uint64_t resource_version() const;
  ApiServerCounters counters() const;
  // Waits until at least `count` watch streams are open.
  bool wait_for_open_watches(std::size_t count, std::chrono::milliseconds timeout) const;

  // ----- fault injection
  // Closes every open watch connection at the TCP level, mid-stream (no terminating chunk, no
  // TLS close_notify).
  void drop_watches();
  // An apiserver restart as clients see it: the event history is forgotten (a watch from an older
  // revision gets the 410 ERROR event, naming the current revision as the oldest usable one),
  // every continue token issued before gets HTTP 410 Expired, open watches are dropped.
  // Cluster content and the revision counter stay (they live in etcd).
  void restart();
  // Compaction: continue tokens issued before now get 410 Expired (watches are unaffected: they
  // are served from the history, as from the watch cache).
  void compact();
  // The next n binding POSTs (that pass authentication and authorization) answer http_status
  // (429, 500, 503, ...) with a Status body and change nothing. 429 and 503 add Retry-After: 1.
  void fail_next_bindings(std::size_t n, int http_status);
  // The next n list or watch GETs of a collection (that pass authentication and authorization)
  // answer http_status the same way, with nothing streamed.
  void fail_next_reads(std::size_t n, int http_status);
  // A stalled apiserver: each list GET is read and then answered only after this delay, with the
  // content as of then (0: at once). Watches are not delayed.
  void set_list_delay(std::chrono::milliseconds delay);
  // Each binding POST waits this long before it is applied (0: none).
  void set_binding_delay(std::chrono::milliseconds delay);
  // Every open watch that allows bookmarks gets a BOOKMARK at the current revision now.
  void send_bookmarks();
  // Down: the listening socket is closed (new connections are refused, as when the apiserver is
  // not running) and every open connection is closed; up: listening again on the same port.
  common::Result<std::monostate> set_down(bool down);
  // Called under the store lock after each successful binding, before the lock is released (so
  // before any watch stream or query can see the binding). It must not call the stand-in.
  void set_binding_observer(std::function<void(const BindingRecord&)> observer);

  class Impl;  // defined in api_server_standin.cc (public only so its sessions can name it)

 private:
  explicit ApiServerStandin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::tools::standins
