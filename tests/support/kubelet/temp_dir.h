#pragma once

// Transitional: TempDir moved to tools/standins/temp_dir.h (the demo uses it too). This header
// keeps the old spelling compiling for tests/unit/deviceplugin/plugin_config_test.cc, which is
// being rewritten elsewhere; delete it once that test includes the tools header.
#include "tools/standins/temp_dir.h"

namespace epc::test_support {

using tools::standins::TempDir;

}  // namespace epc::test_support
