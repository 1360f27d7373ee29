#include "deviceplugin/sgx/root_fs.h"

#include <gtest/gtest.h>

#include "tools/standins/sgx_root_standin.h"

namespace epc::deviceplugin::sgx {
namespace {

TEST(Rooted, JoinsWithoutDoubleSlashes) {
  EXPECT_EQ(rooted("/", "/dev/sgx_enclave"), "/dev/sgx_enclave");
  EXPECT_EQ(rooted("/tmp/r", "/dev/sgx_enclave"), "/tmp/r/dev/sgx_enclave");
  EXPECT_EQ(rooted("/tmp/r/", "/dev/sgx_enclave"), "/tmp/r/dev/sgx_enclave");
  EXPECT_EQ(rooted("/tmp/r", "dev/x"), "/tmp/r/dev/x");
}

TEST(ParseU64, AcceptsSysfsStyleNumbers) {
  EXPECT_EQ(parse_u64("0").value(), 0U);
  EXPECT_EQ(parse_u64(" 68719476736\n").value(), 68719476736ULL);
  EXPECT_EQ(parse_u64("18446744073709551615").value(), 18446744073709551615ULL);
}

TEST(ParseU64, RefusesGarbage) {
  EXPECT_FALSE(parse_u64("").ok());
  EXPECT_FALSE(parse_u64("\n").ok());
  EXPECT_FALSE(parse_u64("+1").ok());
  EXPECT_FALSE(parse_u64("-1").ok());
  EXPECT_FALSE(parse_u64("1.5").ok());
  EXPECT_FALSE(parse_u64("18446744073709551616").ok());  // 2^64
  EXPECT_FALSE(parse_u64("1 2").ok());
}

TEST(Excerpt, BoundedAndPrintable) {
  const std::string text = excerpt(std::string(1000, 'x') + "\x01");
  EXPECT_LT(text.size(), 50U);
  EXPECT_EQ(excerpt("a\nb\x02"), "a\\nb?");
}

TEST(ReadSmallFile, AbsentIsNulloptTooBigIsError) {
  tools::standins::SgxRootStandin root;
  auto absent = read_small_file(root.path() + "/nope");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  auto under_file = read_small_file(root.path() + "/nope/deeper");
  ASSERT_TRUE(under_file.ok());
  root.write("big", std::string(5000, '1'));
  EXPECT_FALSE(read_small_file(root.path() + "/big", 4096).ok());
  root.write("exact", std::string(4096, '1'));
  auto exact = read_small_file(root.path() + "/exact", 4096);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ((*exact)->size(), 4096U);
}

TEST(ReadFilePrefix, StopsAtTheLimit) {
  tools::standins::SgxRootStandin root;
  root.write("f", std::string(10000, 'a'));
  auto prefix = read_file_prefix(root.path() + "/f", 100);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ((*prefix)->size(), 100U);
}

TEST(NodeExists, FilesYesDirectoriesNo) {
  tools::standins::SgxRootStandin root;
  root.write("dev/sgx_enclave", "");
  EXPECT_TRUE(node_exists(root.path() + "/dev/sgx_enclave"));
  EXPECT_FALSE(node_exists(root.path() + "/dev"));
  EXPECT_FALSE(node_exists(root.path() + "/dev/sgx_provision"));
}

}  // namespace
}  // namespace epc::deviceplugin::sgx
