// Fuzz target: the ExtenderPreemptionArgs decoder (untrusted bytes from kube-scheduler) must never
// crash, must refuse bodies over its size limit, must never pass on a negative demand or a victim
// without a UID, and must only claim decoded victim pods when they came from NodeNameToVictims.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extender/http/codec/padded_buffer.h"
#include "extender/http/codec/preempt_args.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr std::size_t kLimit = 64u << 10;  // the decoder's body limit in this target

bool non_negative(const epc::core::PodRequest& request) {
  return request.epc_bytes >= 0 && request.enclave_slots >= 0 && request.provision_slots >= 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using epc::http::codec::VictimSource;
  static epc::http::codec::PreemptArgsDecoder decoder(kLimit);
  static epc::http::codec::PaddedBuffer body;
  body.assign(std::string_view(reinterpret_cast<const char*>(data), size));
  const epc::core::PodRequestOptions options;

  const auto result = decoder.decode(body, options);
  epc::fuzz::check_error_explained(result);
  if (size > kLimit) {
    EPC_FUZZ_CHECK(!result.ok());  // over the limit is refused, never parsed
  }
  if (!result.ok()) {
    return 0;
  }
  const auto& view = *result;
  EPC_FUZZ_CHECK(non_negative(view.request));
  if (view.source == VictimSource::kNone) {
    EPC_FUZZ_CHECK(view.nodes.empty());
  }
  for (const auto& node : view.nodes) {
    for (const auto& victim : node.victims) {
      EPC_FUZZ_CHECK(!victim.uid.empty());
      if (victim.pod_decoded) {
        EPC_FUZZ_CHECK(view.source == VictimSource::kVictims);
        EPC_FUZZ_CHECK(non_negative(victim.request));
      }
      if (view.source == VictimSource::kMetaVictims) {
        EPC_FUZZ_CHECK(!victim.pod_decoded);
      }
    }
  }
  return 0;
}
