// Fuzz target: the /capacity query parser must never crash, and an accepted query is a pod shape
// that wants SGX with every figure within the documented bounds (EPC 0..1 PiB, slots 0..1e6).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "extender/http/handlers/capacity.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  const auto result = epc::http::handlers::parse_capacity_query(query);
  epc::fuzz::check_error_explained(result);
  if (!result.ok()) {
    return 0;
  }
  const auto& shape = *result;
  EPC_FUZZ_CHECK(shape.wants_sgx());
  EPC_FUZZ_CHECK(shape.epc_bytes >= 0 && shape.epc_bytes <= (std::int64_t{1} << 50));
  EPC_FUZZ_CHECK(shape.enclave_slots >= 0 && shape.enclave_slots <= 1'000'000);
  EPC_FUZZ_CHECK(shape.provision_slots >= 0 && shape.provision_slots <= 1'000'000);
  if (query.find("enclaves") == std::string_view::npos && shape.epc_bytes > 0) {
    EPC_FUZZ_CHECK(shape.enclave_slots == 1);  // the documented default with EPC
  }
  return 0;
}
