#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace epc::common::options {

// One "--flag VALUE" or "--flag=VALUE" of a command line, without the dashes.
struct FlagValue {
  std::string_view flag;
  std::string_view value;
};

// A daemon's command line as both our binaries read it: every setting takes a value, in either
// form; --config FILE names a YAML file applied before any flag wherever it stands; --help (or -h)
// asks for the help text and wins over everything else; --check-config (no value) asks to load and
// validate everything and exit without starting, as a manifest test or an operator would.
struct CommandLine {
  bool help = false;
  bool check = false;
  std::string config_path;       // empty when no --config was given
  std::vector<FlagValue> flags;  // every other flag, in order (a later one wins)
};

// Splits `args` (argv without the program name; the views must outlive the result). Errors: a
// word that is not a flag, a flag without its value, --config without a file.
Result<CommandLine> split_command_line(std::span<const std::string_view> args);

}  // namespace epc::common::options
