#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace epc::common::options {

// One setting of a YAML config file: its dot-joined key path ("http.port") and its scalar text.
struct YamlSetting {
  std::string key;
  std::string value;
};

// The settings of a YAML document that is a mapping (of mappings) of scalars, in file order. An
// empty document has none. Errors: not YAML (yaml-cpp's message), a top level that is not a
// mapping, a key that is not a string, a value that is a list or empty ("KEY: expected a single
// value"). yaml-cpp's exceptions end here.
Result<std::vector<YamlSetting>> yaml_settings(std::string_view yaml);

// The whole text of a config file; "cannot read config file \"PATH\"" when it cannot be read.
Result<std::string> read_config_file(const std::string& path);

}  // namespace epc::common::options
