#pragma once

#include <chrono>
#include <cstdlib>

namespace epc::test_support {

// How much slower than an uninstrumented build this test run is allowed to be, from
// EPC_TEST_TIME_SCALE (default 1; scripts/test sets it for sanitizer builds: TSan runs code 5-15x
// slower, and on two cores its tests also wait for each other). A "within 1 s" check is written
// against the uninstrumented build and scaled here, so it still catches a hang or a missed wake-up
// (those take the full timeout, far beyond any scale) while it stops failing on slowness alone.
// Header-only: every test target may include it without linking anything.
inline double time_scale() {
  static const double scale = [] {
    const char* text = std::getenv("EPC_TEST_TIME_SCALE");
    if (text == nullptr) {
      return 1.0;
    }
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    return (end != text && value >= 1.0 && value <= 100.0) ? value : 1.0;
  }();
  return scale;
}

template <typename Rep, typename Period>
std::chrono::milliseconds scaled(std::chrono::duration<Rep, Period> duration) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(
      static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) *
      time_scale()));
}

// Whether timing is relaxed (a sanitizer build): where an exact count of another library's
// threads depends on timing (gRPC's elastic pools), such runs allow its slack.
inline bool timing_relaxed() { return time_scale() > 1.0; }

}  // namespace epc::test_support
