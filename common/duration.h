#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace epc::common {

// A duration as Go and Kubernetes write it, in whole milliseconds: one or more <integer><unit>
// terms with unit ms, s, m or h ("500ms", "30s", "1m30s", "2h"). "0" alone is zero. No spaces,
// no sign, no fractions; a value that does not fit int64 milliseconds is an error.
Result<std::int64_t> parse_duration_ms(std::string_view text);

// Milliseconds written back the way parse_duration_ms reads them: "30s" when whole seconds, else
// "500ms"; "0" for zero.
std::string format_duration_ms(std::int64_t ms);

}  // namespace epc::common
