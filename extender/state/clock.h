#pragma once

#include <chrono>
#include <cstdint>

namespace epc::state {

// The one clock of the extender: monotonic, in nanoseconds. Report times and "now" given to the
// core both come from here.
inline std::int64_t monotonic_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace epc::state
