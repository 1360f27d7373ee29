#include "common/options/yaml_settings.h"

#include <string>

#include <gtest/gtest.h>

namespace epc::common::options {
namespace {

TEST(YamlSettingsTest, NestedMappingsBecomeDottedKeysInFileOrder) {
  const auto settings = yaml_settings("b: 1\na:\n  x: two\n  y:\n    z: \"3\"\nc: true\n");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  ASSERT_EQ(settings->size(), 4u);
  EXPECT_EQ((*settings)[0].key, "b");
  EXPECT_EQ((*settings)[0].value, "1");
  EXPECT_EQ((*settings)[1].key, "a.x");
  EXPECT_EQ((*settings)[1].value, "two");
  EXPECT_EQ((*settings)[2].key, "a.y.z");
  EXPECT_EQ((*settings)[2].value, "3");
  EXPECT_EQ((*settings)[3].key, "c");
}

TEST(YamlSettingsTest, EmptyDocumentHasNoSettings) {
  for (const char* empty : {"", "# only a comment\n", "---\n"}) {
    const auto settings = yaml_settings(empty);
    ASSERT_TRUE(settings.ok()) << empty;
    EXPECT_TRUE(settings->empty()) << empty;
  }
}

TEST(YamlSettingsTest, ErrorsNameTheKey) {
  struct Row {
    const char* yaml;
    const char* want;
  };
  const Row rows[] = {
      {"- a\n- b\n", "the top level must be a mapping of keys"},
      {"just text\n", "the top level must be a mapping of keys"},
      {"a:\n  x: [1, 2]\n", "a.x: expected a single value"},
      {"a:\n  x:\n", "a.x: expected a single value"},
      {"? [k]\n: v\n", "key under the top level is not a string"},
      {"a: {x: 1\n", "not valid YAML"},
      // An alias that contains itself (found by the config fuzzers: it used to recurse until the
      // stack ran out).
      {"a: &x {b: *x}\n", "nested deeper than 16 levels"},
  };
  for (const Row& row : rows) {
    const auto settings = yaml_settings(row.yaml);
    ASSERT_FALSE(settings.ok()) << row.yaml;
    EXPECT_NE(settings.error().message.find(row.want), std::string::npos)
        << row.yaml << ": " << settings.error().message;
  }
}

TEST(ReadConfigFileTest, MissingFileIsAnErrorNamingIt) {
  const auto text = read_config_file("/nonexistent/epc-config.yaml");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message, "cannot read config file \"/nonexistent/epc-config.yaml\"");
}

}  // namespace
}  // namespace epc::common::options
