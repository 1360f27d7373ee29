#include "common/options/yaml_settings.h"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace epc::common::options {

namespace {

// Settings are a few levels deep; a deeper tree is a mistake or an alias that contains itself
// (`a: &x {b: *x}`), which yaml-cpp resolves into a cycle that recursion would never leave.
constexpr int kMaxDepth = 16;

// Appends the settings under `node` (at `path`) to `out`; an error text, empty when fine.
std::string collect(const YAML::Node& node, const std::string& path, int depth,
                    std::vector<YamlSetting>& out) {
  if (depth > kMaxDepth) {
    return path.substr(0, 200) + "...: nested deeper than " + std::to_string(kMaxDepth) +
           " levels (an alias that refers to itself?)";
  }
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return "key under " + (path.empty() ? std::string("the top level") : path) +
               " is not a string";
      }
      const std::string& key = entry.first.Scalar();
      if (auto bad = collect(entry.second, path.empty() ? key : path + "." + key, depth + 1, out);
          !bad.empty()) {
        return bad;
      }
    }
    return {};
  }
  if (!node.IsScalar()) {
    return path + ": expected a single value";
  }
  out.push_back(YamlSetting{path, node.Scalar()});
  return {};
}

}  // namespace

Result<std::vector<YamlSetting>> yaml_settings(std::string_view yaml) {
  std::vector<YamlSetting> settings;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) {
      return settings;  // an empty file changes nothing
    }
    if (!root.IsMap()) {
      return Error{"the top level must be a mapping of keys"};
    }
    if (auto bad = collect(root, "", 0, settings); !bad.empty()) {
      return Error{bad};
    }
  } catch (const YAML::Exception& e) {
    return Error{std::string("not valid YAML: ") + e.what()};
  }
  return settings;
}

Result<std::string> read_config_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return Error{"cannot read config file \"" + path + "\""};
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    return Error{"cannot read config file \"" + path + "\""};
  }
  return text.str();
}

}  // namespace epc::common::options
