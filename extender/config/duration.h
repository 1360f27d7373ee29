#pragma once

#include <cstdint>
#include <string_view>

#include "extender/core/result.h"

namespace epc::config {

// A duration as Go and Kubernetes write it, in whole milliseconds: one or more <integer><unit>
// terms with unit ms, s, m or h ("500ms", "30s", "1m30s", "2h"). "0" alone is zero. No spaces,
// no sign, no fractions; a value that does not fit int64 milliseconds is an error.
core::Result<std::int64_t> parse_duration_ms(std::string_view text);

}  // namespace epc::config
