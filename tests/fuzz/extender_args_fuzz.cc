// Fuzz target: the ExtenderArgs decoder (untrusted bytes from the network) must never crash, read
// out of bounds, pass on a negative demand or mark a name plain that needs escaping, and its
// hand-written cache-mode fast path (cache_mode_fast_path.cc) must agree with the generic simdjson
// path on every input it accepts (differential check: decode() falls back to the generic path
// whenever the fast path declines, so any difference is the fast path's).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/padded_buffer.h"
#include "extender/http/codec/scanner.h"

namespace {

using epc::http::codec::ExtenderArgsView;

// Everything a decode yields, copied out (views die at the next decode).
struct Decoded {
  bool ok = false;
  std::string error;
  std::string pod_name, pod_namespace, pod_uid;
  epc::core::PodRequest request;
  int source = 0;
  bool plain_names = false;
  std::vector<std::string> names;
  std::vector<std::string> items;

  bool operator==(const Decoded&) const = default;
};

Decoded copy_out(const epc::common::Result<ExtenderArgsView>& result) {
  Decoded out;
  out.ok = result.ok();
  if (!out.ok) {
    out.error = result.error().message;
    if (out.error.empty()) {
      std::abort();  // every error explains itself
    }
    return out;
  }
  const ExtenderArgsView& view = *result;
  out.pod_name = view.pod.name;
  out.pod_namespace = view.pod.namespace_name;
  out.pod_uid = view.pod.uid;
  out.request = view.request;
  out.source = static_cast<int>(view.source);
  out.plain_names = view.plain_names;
  out.names.assign(view.node_names.begin(), view.node_names.end());
  out.items.assign(view.node_items.begin(), view.node_items.end());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static epc::http::codec::ExtenderArgsDecoder decoder(1u << 20);
  static epc::http::codec::PaddedBuffer body;
  body.assign(std::string_view(reinterpret_cast<const char*>(data), size));
  const epc::core::PodRequestOptions options;

  const Decoded fast = copy_out(decoder.decode(body, options));
  const Decoded generic = copy_out(decoder.decode_generic_for_test(body, options));
  if (!(fast == generic)) {
    std::abort();  // the fast path changed an answer
  }
  if (fast.ok) {
    if (fast.request.epc_bytes < 0 || fast.request.enclave_slots < 0 ||
        fast.request.provision_slots < 0) {
      std::abort();  // negative demand must be refused, never passed on
    }
    if (fast.source == static_cast<int>(epc::http::codec::NodeSource::kNodeList) &&
        fast.items.size() != fast.names.size()) {
      std::abort();
    }
    // plain_names lets the reply echo the names without escaping: it must never be claimed for a
    // name that needs it, or the reply would not be valid JSON.
    if (fast.plain_names) {
      for (const std::string& name : fast.names) {
        for (const char c : name) {
          if (!epc::http::codec::is_plain_name_byte(static_cast<unsigned char>(c))) {
            std::abort();
          }
        }
      }
    }
  }
  return 0;
}
