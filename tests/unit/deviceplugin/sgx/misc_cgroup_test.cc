#include "deviceplugin/sgx/misc_cgroup.h"

#include <gtest/gtest.h>

#include "tools/standins/sgx_root_standin.h"

namespace epc::deviceplugin::sgx {
namespace {

TEST(ParseMiscValue, FindsTheKeyLine) {
  auto value = parse_misc_value("res_a 1\nsgx_epc 4096\nres_b 7\n", "sgx_epc");
  ASSERT_TRUE(value.ok());
  ASSERT_TRUE(value->has_value());
  EXPECT_EQ(**value, 4096U);
}

TEST(ParseMiscValue, NoKeyLineIsNullopt) {
  auto value = parse_misc_value("res_a 1\nsgx_epcx 5\n", "sgx_epc");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
  auto empty = parse_misc_value("", "sgx_epc");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST(ParseMiscValue, GarbageOnKeyLineIsAnError) {
  EXPECT_FALSE(parse_misc_value("sgx_epc max\n", "sgx_epc").ok());
  EXPECT_FALSE(parse_misc_value("sgx_epc -5\n", "sgx_epc").ok());
  EXPECT_FALSE(parse_misc_value("sgx_epc \n", "sgx_epc").ok());
  EXPECT_FALSE(parse_misc_value("sgx_epc 1 2\n", "sgx_epc").ok());
}

TEST(ParseMiscValue, GarbageOnOtherLinesIsNotOurs) {
  auto value = parse_misc_value("res_a what\n\x01\x02\nsgx_epc 9", "sgx_epc");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->value_or(0), 9U);
}

TEST(ReadLiveEpc, OnlyCapacityFileIsUnknown) {
  tools::standins::SgxRootStandin root;
  root.write("sys/fs/cgroup/misc.capacity", "sgx_epc 100\n");
  auto live = read_live_epc(root.path());
  ASSERT_TRUE(live.ok());
  EXPECT_FALSE(live->known);
}

TEST(ReadLiveEpc, BothFilesKnown) {
  tools::standins::SgxRootStandin root;
  root.set_misc_sgx_epc(1000, 250);
  auto live = read_live_epc(root.path());
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->known);
  EXPECT_EQ(live->capacity_bytes, 1000U);
  EXPECT_EQ(live->used_bytes, 250U);
}

TEST(ReadLiveEpc, GarbageInCurrentNamesTheFile) {
  tools::standins::SgxRootStandin root;
  root.set_misc_sgx_epc(1000, 250);
  root.write("sys/fs/cgroup/misc.current", "sgx_epc 25x\n");
  auto live = read_live_epc(root.path());
  ASSERT_FALSE(live.ok());
  EXPECT_NE(live.error().message.find("misc.current"), std::string::npos);
}

}  // namespace
}  // namespace epc::deviceplugin::sgx
