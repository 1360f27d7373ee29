#include "extender/http/codec/cpu_memory_request.h"

#include <algorithm>
#include <limits>

#include "common/quantity.h"
#include "extender/core/checked_math.h"

namespace epc::http::codec {

namespace {

std::int64_t non_negative(const std::optional<std::int64_t>& amount) {
  return amount.has_value() ? std::max<std::int64_t>(*amount, 0) : 0;
}

std::int64_t effective(const std::optional<std::int64_t>& request,
                       const std::optional<std::int64_t>& limit) {
  return non_negative(request.has_value() ? request : limit);
}

CpuMemory effective(const CpuMemoryAmounts& requests, const CpuMemoryAmounts& limits) {
  return CpuMemory{.cpu_milli = effective(requests.cpu_milli, limits.cpu_milli),
                   .memory_bytes = effective(requests.memory_bytes, limits.memory_bytes)};
}

CpuMemory add(const CpuMemory& a, const CpuMemory& b) {
  return CpuMemory{.cpu_milli = core::saturating_add(a.cpu_milli, b.cpu_milli),
                   .memory_bytes = core::saturating_add(a.memory_bytes, b.memory_bytes)};
}

CpuMemory max(const CpuMemory& a, const CpuMemory& b) {
  return CpuMemory{.cpu_milli = std::max(a.cpu_milli, b.cpu_milli),
                   .memory_bytes = std::max(a.memory_bytes, b.memory_bytes)};
}

// common's parser reports a value past int64 as an error; here it saturates (see the header).
// Only the failure path looks at the message, and it allocates anyway.
common::Result<std::int64_t> saturate_out_of_range(std::string_view text,
                                                   common::Result<std::int64_t> parsed) {
  if (parsed.ok() || parsed.error().message.find("out of range: more than") == std::string::npos) {
    return parsed;
  }
  return text.starts_with('-') ? std::numeric_limits<std::int64_t>::min()
                               : std::numeric_limits<std::int64_t>::max();
}

}  // namespace

void CpuMemoryRequest::add_container(const CpuMemoryAmounts& requests,
                                     const CpuMemoryAmounts& limits) {
  app_ = add(app_, effective(requests, limits));
}

void CpuMemoryRequest::begin_init_containers() {
  sidecars_ = {};
  init_max_ = {};
}

void CpuMemoryRequest::add_init_container(const CpuMemoryAmounts& requests,
                                          const CpuMemoryAmounts& limits, bool restartable) {
  const CpuMemory amounts = effective(requests, limits);
  if (restartable) {
    sidecars_ = add(sidecars_, amounts);  // runs from here on, beside everything after it
  } else {
    init_max_ = max(init_max_, add(amounts, sidecars_));
  }
}

CpuMemory CpuMemoryRequest::total() const {
  CpuMemory total = max(add(app_, sidecars_), init_max_);
  if (pod_requests_.cpu_milli.has_value()) {
    total.cpu_milli = non_negative(pod_requests_.cpu_milli);
  }
  if (pod_requests_.memory_bytes.has_value()) {
    total.memory_bytes = non_negative(pod_requests_.memory_bytes);
  }
  return add(total, CpuMemory{.cpu_milli = non_negative(overhead_.cpu_milli),
                              .memory_bytes = non_negative(overhead_.memory_bytes)});
}

common::Result<std::int64_t> parse_cpu_milli(std::string_view text) {
  return saturate_out_of_range(text, common::parse_quantity_milli(text));
}

common::Result<std::int64_t> parse_memory_bytes(std::string_view text) {
  common::Result<std::int64_t> whole = common::parse_quantity_units(text);
  if (whole.ok()) {
    return whole;
  }
  // Not whole bytes ("0.5Ki" is, "100m" or "1.0001k" is not) or too large: thousandths, rounded
  // up to the next byte as Value() does.
  common::Result<std::int64_t> milli =
      saturate_out_of_range(text, common::parse_quantity_milli(text));
  if (!milli.ok() || *milli == std::numeric_limits<std::int64_t>::max() ||
      *milli == std::numeric_limits<std::int64_t>::min()) {
    return milli;
  }
  const std::int64_t bytes = *milli / 1000;
  return *milli % 1000 > 0 ? bytes + 1 : bytes;
}

}  // namespace epc::http::codec
