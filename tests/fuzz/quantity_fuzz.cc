// Fuzz target: the Kubernetes quantity parser must never crash, overflow (UBSan) or accept what it
// cannot represent. Checks invariants that hold for every input, not fixed answers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto units = epc::common::parse_quantity_units(text);
  const auto milli = epc::common::parse_quantity_milli(text);
  if (units.ok()) {
    // A whole number of units is also representable in thousandths unless that overflows; when
    // both parse, they agree.
    if (milli.ok() && *milli / 1000 != *units) {
      std::abort();
    }
  } else if (units.error().message.empty()) {
    std::abort();  // every error explains itself
  }
  return 0;
}
