#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "extender/config/extender_config.h"

namespace epc::config {

// Loads the extender's configuration: defaults, then the YAML file named by `--config FILE` (if
// any), then every other flag, so flags override the file. `--help` anywhere returns a config with
// help_requested set and nothing else read. Unknown keys or flags, missing or malformed values and
// out-of-range numbers are errors that name the key or flag.
//
// YAML keys (snake_case, nested by section) and flags, with their meaning and default, are listed
// by help_text() and in config/extender/epc-extender.yaml.
common::Result<ExtenderConfig> load_extender_config(int argc, char** argv);

// Applies YAML text on top of `config` (the --config step, without the file system).
common::Result<ExtenderConfig> apply_yaml_config(std::string_view yaml, ExtenderConfig config);

// "none", "token" or "mtls", as grpc.auth spells them.
std::string_view grpc_auth_name(ExtenderConfig::GrpcAuth auth);

// The `--help` text: usage, then every flag with its YAML key, meaning and default.
std::string help_text();

}  // namespace epc::config
