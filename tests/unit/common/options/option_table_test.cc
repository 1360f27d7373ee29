#include "common/options/option_table.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/value_parsers.h"

namespace epc::common::options {
namespace {

// A two-setting configuration, as a daemon would declare it.
struct TinyConfig {
  std::int64_t port = 80;
  std::string name = "default";
};

std::string set_port(TinyConfig& c, std::string_view v) {
  const auto port = parse_int_in(v, 1, 65535);
  if (!port.ok()) {
    return port.error().message;
  }
  c.port = *port;
  return {};
}

const Option<TinyConfig> kTable[] = {
    {"http.port", "port", "N", "the port", set_port,
     [](const TinyConfig& c) { return std::to_string(c.port); }},
    {"name", "name", "TEXT", "a name",
     [](TinyConfig& c, std::string_view v) {
       c.name = std::string(v);
       return std::string();
     },
     [](const TinyConfig& c) { return c.name; }},
};

Result<Loaded<TinyConfig>> run(std::vector<std::string_view> args) {
  return load<TinyConfig>(kTable, args, TinyConfig{});
}

TEST(OptionTableTest, YamlByKey) {
  const auto config = apply_yaml<TinyConfig>(kTable, "http:\n  port: 8080\nname: x\n", {});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->port, 8080);
  EXPECT_EQ(config->name, "x");
}

TEST(OptionTableTest, YamlErrorsNameTheKey) {
  const auto unknown = apply_yaml<TinyConfig>(kTable, "http:\n  prot: 1\n", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "config: unknown key \"http.prot\"");
  const auto bad = apply_yaml<TinyConfig>(kTable, "http:\n  port: 0\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "config: http.port: \"0\" is out of range 1..65535");
}

TEST(OptionTableTest, FlagsByFlagNameLaterWins) {
  const auto loaded = run({"--port", "1", "--name=a", "--port=2"});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->config.port, 2);
  EXPECT_EQ(loaded->config.name, "a");
  EXPECT_FALSE(loaded->help);
}

TEST(OptionTableTest, FlagErrorsNameTheFlag) {
  const auto unknown = run({"--prot", "1"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown flag --prot (see --help)");
  const auto bad = run({"--port", "x"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "--port: \"x\" is not an integer");
  // YAML keys are not flags.
  EXPECT_FALSE(run({"--http.port", "1"}).ok());
}

TEST(OptionTableTest, HelpReturnsTheDefaultsUntouched) {
  const auto loaded = run({"--port", "x", "--help"});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->help);
  EXPECT_EQ(loaded->config.port, 80);
}

TEST(OptionTableTest, CheckConfigTakesNoValueAndStillValidates) {
  // Anywhere on the line, without a value: the flag after it keeps its own.
  const auto loaded = run({"--check-config", "--port", "9", "--name=a"});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->check);
  EXPECT_EQ(loaded->config.port, 9);
  EXPECT_EQ(loaded->config.name, "a");
  const auto last = run({"--port", "9", "--check-config"});
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_TRUE(last->check);
  // Unlike --help it does not excuse a bad value: checking is its point.
  EXPECT_FALSE(run({"--check-config", "--port", "x"}).ok());
  EXPECT_FALSE(run({"--port", "1"})->check);
}

TEST(OptionTableTest, HelpRowsShowFlagKeyAndDefault) {
  const std::string rows = help_rows<TinyConfig>(kTable, TinyConfig{});
  EXPECT_EQ(rows,
            "  --port N   (http.port)\n      the port [default: 80]\n"
            "  --name TEXT   (name)\n      a name [default: default]\n");
}

}  // namespace
}  // namespace epc::common::options
