#include "common/options/command_line.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace epc::common::options {
namespace {

Result<CommandLine> split(std::vector<std::string_view> args) { return split_command_line(args); }

TEST(CommandLineTest, BothFormsInOrderAndTheConfigFileApart) {
  const auto line = split({"--a", "1", "--config", "f.yaml", "--b=2", "--a=3", "--c="});
  ASSERT_TRUE(line.ok()) << line.error().message;
  EXPECT_FALSE(line->help);
  EXPECT_EQ(line->config_path, "f.yaml");
  ASSERT_EQ(line->flags.size(), 4u);
  EXPECT_EQ(line->flags[0].flag, "a");
  EXPECT_EQ(line->flags[0].value, "1");
  EXPECT_EQ(line->flags[1].flag, "b");
  EXPECT_EQ(line->flags[1].value, "2");
  EXPECT_EQ(line->flags[2].value, "3");  // a later flag comes later: the caller lets it win
  EXPECT_EQ(line->flags[3].flag, "c");
  EXPECT_EQ(line->flags[3].value, "");  // "--c=" is an explicit empty value
}

// --help wins over anything, even words that would be errors: it is how one learns what is valid.
TEST(CommandLineTest, HelpAnywhereWins) {
  for (const auto& args :
       {std::vector<std::string_view>{"--help"}, std::vector<std::string_view>{"stray", "-h"},
        std::vector<std::string_view>{"--a", "--help"}}) {
    const auto line = split(args);
    ASSERT_TRUE(line.ok()) << line.error().message;
    EXPECT_TRUE(line->help);
    EXPECT_TRUE(line->flags.empty());
  }
}

TEST(CommandLineTest, ErrorsNameWhatIsWrong) {
  struct Row {
    std::vector<std::string_view> args;
    std::string want;
  };
  const Row rows[] = {
      {{"stray"}, "unexpected argument \"stray\""}, {{"-x", "1"}, "unexpected argument \"-x\""},
      {{"--"}, "unexpected argument \"--\""},       {{"--a"}, "--a needs a value"},
      {{"--config"}, "--config needs a file name"}, {{"--config="}, "--config needs a file name"},
  };
  for (const Row& row : rows) {
    const auto line = split(row.args);
    ASSERT_FALSE(line.ok()) << row.want;
    EXPECT_EQ(line.error().message.find(row.want), 0u) << line.error().message;
  }
}

}  // namespace
}  // namespace epc::common::options
