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

  // gRPC (device plugin side).
  std::string grpc_address = "127.0.0.1:9090";
  std::size_t grpc_max_message_bytes = 4u << 20;
  // Unacknowledged messages per plugin stream before the extender stops reading it (back-pressure
  // against a sender that floods faster than the state writer applies).
  std::size_t grpc_stream_max_in_flight = 32;

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
  // A bind's reservation counts until the watch confirms it, or this long at most.
  std::int64_t reservation_ttl_ms = 30000;
  // A pod seen only in filter/prioritize is remembered (a hint) this long (0 = until evicted).
  std::int64_t hint_ttl_ms = 300000;

  bool api_enabled() const { return kube_in_cluster || !kube_kubeconfig.empty(); }

  // Set by `--help`: the caller prints config::help_text() and exits 0 (nothing else is loaded).
  bool help_requested = false;
};

}  // namespace epc::config
