#include "common/options/command_line.h"

namespace epc::common::options {

Result<CommandLine> split_command_line(std::span<const std::string_view> args) {
  CommandLine line;
  for (const std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      line.help = true;
      line.flags.clear();
      return line;  // help needs no valid rest: it is how a user finds out what valid is
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--check-config") {
      line.check = true;
      continue;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      return Error{"unexpected argument \"" + std::string(arg) + "\" (see --help)"};
    }
    arg.remove_prefix(2);
    FlagValue flag{arg, {}};
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      flag.flag = arg.substr(0, eq);
      flag.value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      flag.value = args[++i];
    } else if (flag.flag == "config") {
      return Error{"--config needs a file name"};
    } else {
      return Error{"--" + std::string(flag.flag) + " needs a value"};
    }
    if (flag.flag == "config") {
      if (flag.value.empty()) {
        return Error{"--config needs a file name"};
      }
      line.config_path = std::string(flag.value);
    } else {
      line.flags.push_back(flag);
    }
  }
  return line;
}

}  // namespace epc::common::options
