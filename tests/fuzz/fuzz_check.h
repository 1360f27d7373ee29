// Shared helpers of the fuzz targets: a failed invariant traps (libFuzzer reports it as a crash and
// the replay driver dies), so a finding is never a silent log line.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "common/result.h"

#define EPC_FUZZ_CHECK(condition)                                                                  \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace epc::fuzz {

// Every decoder answers with a value or an error that explains itself.
template <typename T>
void check_error_explained(const common::Result<T>& result) {
  if (!result.ok()) {
    EPC_FUZZ_CHECK(!result.error().message.empty());
  }
}

}  // namespace epc::fuzz
