#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/options/command_line.h"
#include "common/options/yaml_settings.h"
#include "common/result.h"

namespace epc::common::options {

// One setting of a daemon's configuration, as one row of its table: the YAML key (dot-separated
// path), the flag (without "--"), what the value looks like and what it does (for --help), how to
// store a value (an error text, empty when stored) and how to show one (the default in --help).
// The table is the single place a setting is defined: YAML, flags and --help all read it.
template <typename Config>
struct Option {
  std::string_view key;
  std::string_view flag;
  std::string_view value;
  std::string_view help;
  std::string (*set)(Config&, std::string_view);
  std::string (*show)(const Config&);
};

template <typename Config>
using OptionTable = std::span<const Option<Config>>;

template <typename Config>
const Option<Config>* find_by_key(OptionTable<Config> table, std::string_view key) {
  for (const Option<Config>& option : table) {
    if (option.key == key) {
      return &option;
    }
  }
  return nullptr;
}

template <typename Config>
const Option<Config>* find_by_flag(OptionTable<Config> table, std::string_view flag) {
  for (const Option<Config>& option : table) {
    if (option.flag == flag) {
      return &option;
    }
  }
  return nullptr;
}

// Applies a YAML document over `config`. Errors start with "config: " and name the key.
template <typename Config>
Result<Config> apply_yaml(OptionTable<Config> table, std::string_view yaml, Config config) {
  const Result<std::vector<YamlSetting>> settings = yaml_settings(yaml);
  if (!settings.ok()) {
    return Error{"config: " + settings.error().message};
  }
  for (const YamlSetting& setting : *settings) {
    const Option<Config>* option = find_by_key(table, setting.key);
    if (option == nullptr) {
      return Error{"config: unknown key \"" + setting.key + "\""};
    }
    if (auto bad = option->set(config, setting.value); !bad.empty()) {
      return Error{"config: " + setting.key + ": " + bad};
    }
  }
  return config;
}

// What a command line asked for: the configuration (defaults, then the --config file, then the
// flags in order), whether --help was asked (then `config` is the defaults), whether
// --check-config was, and the file read.
template <typename Config>
struct Loaded {
  Config config;
  bool help = false;
  bool check = false;
  std::string config_path;
};

// Reads a whole command line against `table`. Errors name the flag or the file.
template <typename Config>
Result<Loaded<Config>> load(OptionTable<Config> table, std::span<const std::string_view> args,
                            Config defaults) {
  const Result<CommandLine> line = split_command_line(args);
  if (!line.ok()) {
    return line.error();
  }
  Loaded<Config> loaded{std::move(defaults), line->help, line->check, line->config_path};
  if (line->help) {
    return loaded;
  }
  if (!line->config_path.empty()) {
    const Result<std::string> text = read_config_file(line->config_path);
    if (!text.ok()) {
      return text.error();
    }
    Result<Config> from_file = apply_yaml(table, *text, std::move(loaded.config));
    if (!from_file.ok()) {
      return Error{line->config_path + ": " + from_file.error().message};
    }
    loaded.config = std::move(from_file).value();
  }
  for (const FlagValue& flag : line->flags) {
    const Option<Config>* option = find_by_flag(table, flag.flag);
    if (option == nullptr) {
      return Error{"unknown flag --" + std::string(flag.flag) + " (see --help)"};
    }
    if (auto bad = option->set(loaded.config, flag.value); !bad.empty()) {
      return Error{"--" + std::string(flag.flag) + ": " + bad};
    }
  }
  return loaded;
}

// The --help lines of every row: "  --flag VALUE   (key)\n      help [default: shown]\n".
template <typename Config>
std::string help_rows(OptionTable<Config> table, const Config& defaults) {
  std::string out;
  for (const Option<Config>& option : table) {
    out.append("  --").append(option.flag).append(" ").append(option.value);
    out.append("   (").append(option.key).append(")\n      ").append(option.help);
    out.append(" [default: ").append(option.show(defaults)).append("]\n");
  }
  return out;
}

}  // namespace epc::common::options
