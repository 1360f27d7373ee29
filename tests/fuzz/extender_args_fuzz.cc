// Fuzz target: the ExtenderArgs decoder (untrusted bytes from the network) must never crash, read
// out of bounds or leave views that point outside the body or the decoder's own storage.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/padded_buffer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static epc::http::codec::ExtenderArgsDecoder decoder(1u << 20);
  static epc::http::codec::PaddedBuffer body;
  body.assign(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto args = decoder.decode(body, epc::core::PodRequestOptions{});
  if (!args.ok()) {
    if (args.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  const auto& view = *args;
  if (view.request.epc_bytes < 0 || view.request.enclave_slots < 0 ||
      view.request.provision_slots < 0) {
    std::abort();  // negative demand must be refused, never passed on
  }
  if (view.source == epc::http::codec::NodeSource::kNodeList &&
      view.node_items.size() != view.node_names.size()) {
    std::abort();
  }
  std::size_t total = 0;
  for (const std::string_view name : view.node_names) {
    total += name.size();  // touch every byte range (ASan checks the views)
    for (const char c : name) {
      total += static_cast<unsigned char>(c);
    }
  }
  return total == static_cast<std::size_t>(-1) ? 1 : 0;
}
