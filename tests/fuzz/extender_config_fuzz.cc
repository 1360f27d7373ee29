// Fuzz target: the extender's YAML configuration reader (apply_yaml_config, the --config step).
// It must never crash or leak a yaml-cpp exception, must explain every refusal, and an accepted
// text must re-validate: applied again on top of its own result it is accepted and changes
// nothing (the reader is a pure function of the text).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extender/config/load_extender_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool same(const epc::config::ExtenderConfig& a, const epc::config::ExtenderConfig& b) {
  return a.http_address == b.http_address && a.http_port == b.http_port &&
         a.url_prefix == b.url_prefix && a.http_body_limit_bytes == b.http_body_limit_bytes &&
         a.http_read_timeout_ms == b.http_read_timeout_ms &&
         a.http_idle_timeout_ms == b.http_idle_timeout_ms && a.http_threads == b.http_threads &&
         a.grpc_address == b.grpc_address && a.grpc_max_message_bytes == b.grpc_max_message_bytes &&
         a.grpc_stream_max_in_flight == b.grpc_stream_max_in_flight && a.policy == b.policy &&
         a.epc_headroom_bytes == b.epc_headroom_bytes && a.stale_after_ms == b.stale_after_ms &&
         a.mix_half_life_pods == b.mix_half_life_pods &&
         a.single_out_top_node == b.single_out_top_node && a.filter_top_k == b.filter_top_k &&
         a.capacity_shapes_epc_bytes == b.capacity_shapes_epc_bytes &&
         a.request_memory_pods == b.request_memory_pods && a.kube_kubeconfig == b.kube_kubeconfig &&
         a.kube_context == b.kube_context && a.kube_in_cluster == b.kube_in_cluster &&
         a.kube_burst == b.kube_burst && a.kube_request_timeout_ms == b.kube_request_timeout_ms &&
         a.kube_bind_workers == b.kube_bind_workers &&
         a.reservation_ttl_ms == b.reservation_ttl_ms && a.hint_ttl_ms == b.hint_ttl_ms &&
         a.http_max_connections == b.http_max_connections &&
         a.http_header_limit_bytes == b.http_header_limit_bytes &&
         a.grpc_max_streams == b.grpc_max_streams &&
         a.grpc_stream_max_rate == b.grpc_stream_max_rate &&
         a.grpc_stream_burst == b.grpc_stream_burst &&
         a.grpc_stream_max_nodes == b.grpc_stream_max_nodes &&
         a.kube_max_watch_event_bytes == b.kube_max_watch_event_bytes &&
         a.kube_max_response_bytes == b.kube_max_response_bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const auto first = epc::config::apply_yaml_config(yaml, epc::config::ExtenderConfig{});
  epc::fuzz::check_error_explained(first);
  if (!first.ok()) {
    return 0;
  }
  EPC_FUZZ_CHECK(!first->help_requested);  // only the --help flag sets it
  EPC_FUZZ_CHECK(first->http_body_limit_bytes > 0);
  // No accepted text disables a bound (docs/operations.md, "Bounds").
  EPC_FUZZ_CHECK(first->http_max_connections > 0 && first->grpc_max_streams > 0);
  EPC_FUZZ_CHECK(first->grpc_stream_burst > 0 && first->grpc_stream_max_nodes > 0);
  EPC_FUZZ_CHECK(first->http_header_limit_bytes >= 1024 && first->kube_max_watch_event_bytes > 0);
  EPC_FUZZ_CHECK(first->epc_headroom_bytes >= 0);
  const auto again = epc::config::apply_yaml_config(yaml, *first);
  EPC_FUZZ_CHECK(again.ok());
  EPC_FUZZ_CHECK(same(*first, *again));
  return 0;
}
