// Fuzz target: the ExtenderBindingArgs decoder must never crash, must explain every refusal, and
// must never accept a body without pod name, namespace and node.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extender/http/codec/bind_args.h"
#include "extender/http/codec/padded_buffer.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static epc::http::codec::PaddedBuffer body;
  body.assign(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto result = epc::http::codec::decode_bind_args(body);
  epc::fuzz::check_error_explained(result);
  if (result.ok()) {
    EPC_FUZZ_CHECK(!result->pod_name.empty());
    EPC_FUZZ_CHECK(!result->pod_namespace.empty());
    EPC_FUZZ_CHECK(!result->node.empty());
  }
  // The same bytes decode the same way (no state leaks between calls).
  const auto again = epc::http::codec::decode_bind_args(body);
  EPC_FUZZ_CHECK(again.ok() == result.ok());
  if (again.ok()) {
    EPC_FUZZ_CHECK(again->pod_name == result->pod_name && again->node == result->node &&
                   again->pod_namespace == result->pod_namespace &&
                   again->pod_uid == result->pod_uid);
  }
  return 0;
}
