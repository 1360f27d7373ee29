#include "deviceplugin/sgx/discovery.h"

#include <gtest/gtest.h>

#include "tests/unit/deviceplugin/sgx/fake_sgx_probe.h"
#include "tools/standins/sgx_root_standin.h"

namespace epc::deviceplugin::sgx {
namespace {

using tools::standins::SgxRootStandin;

constexpr std::uint64_t kGiB = 1ULL << 30;
constexpr std::uint64_t kMiB = 1ULL << 20;

class DiscoveryTest : public ::testing::Test {
 protected:
  common::Result<SgxInfo> run(const SgxProbe* probe = nullptr) {
    DiscoveryOptions options;
    options.root = root_.path();
    options.probe = probe;
    return discover(options);
  }

  SgxRootStandin root_;
};

TEST_F(DiscoveryTest, NoSgxNode) {
  root_.set_cpu_flags("");
  root_.add_numa_node_without_sgx(0);
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->sgx1);
  EXPECT_FALSE(info->sgx2);
  EXPECT_FALSE(info->flc);
  EXPECT_EQ(info->features_source, Source::kCpuinfo);
  EXPECT_TRUE(info->epc_sections.empty());
  EXPECT_EQ(info->epc_capacity_bytes, 0U);
  EXPECT_EQ(info->epc_source, Source::kNone);
  EXPECT_FALSE(info->devices.enclave);
  EXPECT_FALSE(info->devices.provision);
  EXPECT_FALSE(info->usable());
  EXPECT_NE(info->unusable_reason().find("no SGX"), std::string::npos);
}

TEST_F(DiscoveryTest, EmptyRootIsNoSgxWithNotes) {
  // Nothing at all under the root (not even cpuinfo): not an error, just nothing known.
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->usable());
  EXPECT_EQ(info->features_source, Source::kNone);
  EXPECT_FALSE(info->notes.empty());
  EXPECT_NE(info->unusable_reason().find("unknown"), std::string::npos);
}

TEST_F(DiscoveryTest, Sgx1WithoutFlc) {
  // An older part: SGX1, no launch control; the in-tree driver does not create device nodes.
  root_.set_cpu_flags("sgx");
  root_.set_numa_epc(0, 93 * kMiB + kMiB / 2);
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->sgx1);
  EXPECT_FALSE(info->sgx2);
  EXPECT_FALSE(info->flc);
  ASSERT_EQ(info->epc_sections.size(), 1U);
  EXPECT_EQ(info->epc_capacity_bytes, 93 * kMiB + kMiB / 2);
  EXPECT_FALSE(info->devices.enclave);
  EXPECT_FALSE(info->usable());
  EXPECT_NE(info->unusable_reason().find("Flexible Launch Control"), std::string::npos);
}

TEST_F(DiscoveryTest, Sgx2WithTwoNumaNodesOf64GiB) {
  root_.make_sgx2_node(2, 64 * kGiB);
  root_.add_numa_node_without_sgx(2);  // a CPU-less/memory-only node: no attribute, left out
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->sgx1);
  EXPECT_TRUE(info->sgx2);
  EXPECT_TRUE(info->flc);
  EXPECT_EQ(info->epc_source, Source::kSysfs);
  ASSERT_EQ(info->epc_sections.size(), 2U);
  EXPECT_EQ(info->epc_sections[0].numa_node, 0);
  EXPECT_EQ(info->epc_sections[0].size_bytes, 64 * kGiB);
  EXPECT_EQ(info->epc_sections[1].numa_node, 1);
  EXPECT_EQ(info->epc_sections[1].size_bytes, 64 * kGiB);
  EXPECT_EQ(info->epc_capacity_bytes, 128 * kGiB);
  EXPECT_TRUE(info->devices.enclave);
  EXPECT_TRUE(info->devices.provision);
  EXPECT_TRUE(info->usable());
  EXPECT_TRUE(info->unusable_reason().empty());
}

TEST_F(DiscoveryTest, NumaNodesSortedNumericallyAndZeroSizedLeftOut) {
  root_.set_cpu_flags("sgx sgx_lc");
  root_.set_numa_epc(10, 8 * kGiB);
  root_.set_numa_epc(2, 4 * kGiB);
  root_.set_numa_epc(1, 0);  // the kernel lists nodes without EPC with 0
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  ASSERT_EQ(info->epc_sections.size(), 2U);
  EXPECT_EQ(info->epc_sections[0].numa_node, 2);
  EXPECT_EQ(info->epc_sections[1].numa_node, 10);
  EXPECT_EQ(info->epc_capacity_bytes, 12 * kGiB);
}

TEST_F(DiscoveryTest, DeviceNodesMissing) {
  root_.set_cpu_flags("sgx sgx_lc sgx2");
  root_.set_numa_epc(0, 64 * kGiB);
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->sgx1);
  EXPECT_FALSE(info->devices.enclave);
  EXPECT_FALSE(info->devices.provision);
  EXPECT_FALSE(info->usable());
  EXPECT_NE(info->unusable_reason().find("/dev/sgx_enclave is missing"), std::string::npos);
}

TEST_F(DiscoveryTest, ProvisionMissingStillUsable) {
  root_.set_cpu_flags("sgx sgx_lc");
  root_.add_device_nodes(true, false);
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->devices.enclave);
  EXPECT_FALSE(info->devices.provision);
  EXPECT_TRUE(info->usable());
}

TEST_F(DiscoveryTest, MiscCgroupPresent) {
  root_.make_sgx2_node(1, 64 * kGiB);
  root_.set_misc_sgx_epc(64 * kGiB, 3 * kGiB);
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->live_epc.known);
  EXPECT_EQ(info->live_epc.capacity_bytes, 64 * kGiB);
  EXPECT_EQ(info->live_epc.used_bytes, 3 * kGiB);
}

TEST_F(DiscoveryTest, MiscCgroupAbsentIsUnknownNotZero) {
  root_.make_sgx2_node(1, 64 * kGiB);
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->live_epc.known);
  bool noted = false;
  for (const std::string& note : info->notes) {
    noted = noted || note.find("live EPC use unknown") != std::string::npos;
  }
  EXPECT_TRUE(noted);
}

TEST_F(DiscoveryTest, MiscCgroupWithoutSgxEpcLineIsUnknown) {
  // A kernel with the misc controller but without SGX EPC accounting.
  root_.make_sgx2_node(1, 64 * kGiB);
  root_.write("sys/fs/cgroup/misc.capacity", "res_a 10\n");
  root_.write("sys/fs/cgroup/misc.current", "res_a 2\n");
  auto info = run();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->live_epc.known);
}

TEST_F(DiscoveryTest, GarbageInSgxTotalBytesIsAnErrorNamingTheFile) {
  root_.set_cpu_flags("sgx sgx_lc");
  root_.write("sys/devices/system/node/node0/x86/sgx_total_bytes", "lots\n");
  auto info = run();
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("node0/x86/sgx_total_bytes"), std::string::npos)
      << info.error().message;
  EXPECT_NE(info.error().message.find("lots"), std::string::npos) << info.error().message;
}

TEST_F(DiscoveryTest, GarbageVariantsInSysfsAreErrors) {
  root_.set_cpu_flags("sgx sgx_lc");
  const std::string file = "sys/devices/system/node/node0/x86/sgx_total_bytes";
  for (const std::string& garbage :
       {std::string(""), std::string("-1\n"), std::string("12 34\n"), std::string("0x100\n"),
        std::string("99999999999999999999999\n"), std::string("\0\0\xff", 3),
        std::string(8192, '7')}) {
    root_.write(file, garbage);
    auto info = run();
    EXPECT_FALSE(info.ok()) << "accepted garbage of " << garbage.size() << " bytes";
  }
}

TEST_F(DiscoveryTest, GarbageInMiscCgroupIsAnError) {
  root_.make_sgx2_node(1, 64 * kGiB);
  root_.write("sys/fs/cgroup/misc.capacity", "sgx_epc max\n");
  root_.write("sys/fs/cgroup/misc.current", "sgx_epc 12\n");
  auto info = run();
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("misc.capacity"), std::string::npos) << info.error().message;
}

TEST_F(DiscoveryTest, GarbageCpuinfoIsAnError) {
  root_.write("proc/cpuinfo", std::string("\x01\x02\x03 not cpuinfo", 16));
  auto info = run();
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("proc/cpuinfo"), std::string::npos);
}

TEST_F(DiscoveryTest, DirectoryWhereAFileBelongsIsAnError) {
  root_.set_cpu_flags("sgx sgx_lc");
  root_.write("sys/devices/system/node/node0/x86/sgx_total_bytes/inner", "1");
  auto info = run();
  EXPECT_FALSE(info.ok());
}

TEST_F(DiscoveryTest, CpuidFeaturesWinOverCpuinfo) {
  // cpuinfo claims nothing; the probe (the hardware) says SGX2 + FLC.
  root_.set_cpu_flags("");
  root_.set_numa_epc(0, 64 * kGiB);
  root_.add_device_nodes();
  const FakeSgxProbe probe = FakeSgxProbe::sgx_cpu(true, true, {64 * kGiB});
  auto info = run(&probe);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_GT(probe.calls(), 0);
  EXPECT_EQ(info->features_source, Source::kCpuid);
  EXPECT_TRUE(info->sgx1);
  EXPECT_TRUE(info->sgx2);
  EXPECT_TRUE(info->flc);
  // sysfs still gives the per-NUMA sections.
  EXPECT_EQ(info->epc_source, Source::kSysfs);
  ASSERT_EQ(info->epc_sections.size(), 1U);
  EXPECT_EQ(info->epc_sections[0].numa_node, 0);
}

TEST_F(DiscoveryTest, CpuidSectionsWhenSysfsHasNone) {
  // Kernel without sgx_total_bytes: EPC from CPUID, NUMA node unknown.
  const FakeSgxProbe probe = FakeSgxProbe::sgx_cpu(false, true, {32 * kGiB, 32 * kGiB});
  root_.add_device_nodes();
  auto info = run(&probe);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->epc_source, Source::kCpuid);
  ASSERT_EQ(info->epc_sections.size(), 2U);
  EXPECT_EQ(info->epc_sections[0].numa_node, -1);
  EXPECT_EQ(info->epc_capacity_bytes, 64 * kGiB);
  EXPECT_TRUE(info->usable());
}

TEST_F(DiscoveryTest, ProbeWithoutCpuidFallsBackToCpuinfo) {
  FakeSgxProbe probe;  // answers nothing (not x86)
  root_.set_cpu_flags("sgx sgx_lc");
  auto info = run(&probe);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->features_source, Source::kCpuinfo);
  EXPECT_TRUE(info->sgx1);
}

}  // namespace
}  // namespace epc::deviceplugin::sgx
