#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace epc::common {

// Kubernetes resource quantities ("512Mi", "1Gi", "1e9", "0.5Gi", "100m", "+1k") parsed exactly.
//
// Grammar (k8s.io/apimachinery/pkg/api/resource): <sign><digits>[.<digits>][<suffix>], where suffix
// is a binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix (n u m "" k M G T P E) or a
// decimal exponent (e<int> / E<int>). No whitespace anywhere. Arithmetic is exact (no floating
// point).

// The value in whole base units (bytes, counts). A value that is not a whole number of base units
// ("0.5", "100m", "1.5Ki" is fine = 1536) is an error, as is overflow of int64 or a malformed
// string.
Result<std::int64_t> parse_quantity_units(std::string_view text);

// The value in thousandths of a base unit (CPU millicores): "100m" -> 100, "2" -> 2000, "0.5" ->
// 500. Finer precision than 1/1000 is rounded up, as Kubernetes does for MilliValue().
Result<std::int64_t> parse_quantity_milli(std::string_view text);

}  // namespace epc::common
