#include "tools/sim/openb_reader.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace epc::tools::sim {
namespace {

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = kMi << 10;

constexpr std::string_view kNodeHeader = "sn,cpu_milli,memory_mib,gpu,model\n";
constexpr std::string_view kPodHeader =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
    "deletion_time,scheduled_time\n";

common::Result<std::vector<SimNode>> nodes(std::string_view text,
                                           const OpenbMapping& mapping = {}) {
  std::istringstream in{std::string(text)};
  return read_openb_nodes(in, mapping, "nodes.csv");
}

common::Result<std::vector<SimPod>> pods(std::string_view text, const OpenbMapping& mapping = {}) {
  std::istringstream in{std::string(text)};
  return read_openb_pods(in, mapping, "pods.csv");
}

// A pod row in the real column order with the given memory and times; GPU columns are filler.
std::string pod_row(std::string_view name, std::string_view memory_mib, std::string_view created,
                    std::string_view deleted) {
  return std::string(name) + ",4000," + std::string(memory_mib) + ",1,1000,,LS,Running," +
         std::string(created) + "," + std::string(deleted) + ",0\n";
}

// ---------------------------------------------------------------------------------------------
// Mapping arithmetic

struct NodeRow {
  std::string_view name;
  std::int64_t memory_mib;
  std::int64_t want_epc_bytes;
};

TEST(OpenbReaderTest, NodeEpcIsAnEighthOfMemory) {
  const NodeRow rows[] = {
      {"384GiNode", 393216, 48 * kGi},        // 393216 / 8 = 49152 MiB = 48 GiB
      {"256GiNode", 262144, 32 * kGi},        // 262144 / 8 = 32768 MiB = 32 GiB
      {"FloorsToWholeMiB", 1023, 127 * kMi},  // 1023 / 8 = 127.875 -> 127 MiB
      {"BelowOneMiB", 7, 0},                  // 7 / 8 = 0.875 -> 0: a node without EPC
      {"NoMemory", 0, 0},
  };
  for (const NodeRow& row : rows) {
    auto got =
        nodes(std::string(kNodeHeader) + "n,32000," + std::to_string(row.memory_mib) + ",0,\n");
    ASSERT_TRUE(got.ok()) << row.name << ": " << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    const SimNode& node = got->front();
    EXPECT_EQ(node.epc_bytes, row.want_epc_bytes) << row.name;
    EXPECT_EQ(node.memory_bytes, row.memory_mib * kMi) << row.name;
    EXPECT_EQ(node.cpu_milli, 32000) << row.name;
    EXPECT_EQ(node.enclave_slots, 110) << row.name;
    EXPECT_EQ(node.max_pods, 110) << row.name;
    EXPECT_EQ(node.name, "n") << row.name;
  }
}

struct PodRow {
  std::string_view name;
  std::int64_t memory_mib;
  std::int64_t want_epc_bytes;
};

TEST(OpenbReaderTest, PodEpcIsAQuarterOfMemoryAtLeastOneMiB) {
  const PodRow rows[] = {
      {"48GiPod", 49152, 12 * kGi},  // 49152 / 4 = 12288 MiB = 12 GiB
      {"Floors", 4101, 1025 * kMi},  // 4101 / 4 = 1025.25 -> 1025 MiB
      {"NoMemory", 0, kMi},          // max(0 / 4, 1) = 1 MiB: still an SGX pod
      {"BelowOneMiB", 3, kMi},       // max(3 / 4 = 0, 1) = 1 MiB
      {"ExactlyOneMiB", 4, kMi},     // 4 / 4 = 1 MiB
  };
  for (const PodRow& row : rows) {
    auto got = pods(std::string(kPodHeader) + pod_row("p", std::to_string(row.memory_mib), "", ""));
    ASSERT_TRUE(got.ok()) << row.name << ": " << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    const SimPod& pod = got->front();
    EXPECT_EQ(pod.epc_bytes, row.want_epc_bytes) << row.name;
    EXPECT_EQ(pod.memory_bytes, row.memory_mib * kMi) << row.name;
    EXPECT_EQ(pod.cpu_milli, 4000) << row.name;
    EXPECT_EQ(pod.enclave_slots, 1) << row.name;
  }
}

TEST(OpenbReaderTest, MappingParametersApply) {
  OpenbMapping mapping;
  mapping.node_epc_divisor = 4;
  mapping.pod_epc_divisor = 2;
  mapping.pod_min_epc_mib = 8;
  mapping.node_enclave_slots = 50;
  mapping.node_max_pods = 64;
  mapping.pod_enclave_slots = 2;
  auto node = nodes(std::string(kNodeHeader) + "n,1000,1024,0,\n", mapping);
  ASSERT_TRUE(node.ok()) << node.error().message;
  EXPECT_EQ(node->front().epc_bytes, 256 * kMi);  // 1024 / 4
  EXPECT_EQ(node->front().enclave_slots, 50);
  EXPECT_EQ(node->front().max_pods, 64);
  auto pod = pods(
      std::string(kPodHeader) + pod_row("a", "1024", "", "") + pod_row("b", "10", "", ""), mapping);
  ASSERT_TRUE(pod.ok()) << pod.error().message;
  EXPECT_EQ((*pod)[0].epc_bytes, 512 * kMi);  // 1024 / 2
  EXPECT_EQ((*pod)[1].epc_bytes, 8 * kMi);    // max(10 / 2 = 5, 8)
  EXPECT_EQ((*pod)[0].enclave_slots, 2);
}

// ---------------------------------------------------------------------------------------------
// Layout

TEST(OpenbReaderTest, ColumnsAreFoundByNameInAnyOrder) {
  auto got_nodes = nodes("model,memory_mib,extra,sn,cpu_milli,gpu\nV100,65536,x,node-a,8000,8\n");
  ASSERT_TRUE(got_nodes.ok()) << got_nodes.error().message;
  EXPECT_EQ(got_nodes->front().name, "node-a");
  EXPECT_EQ(got_nodes->front().cpu_milli, 8000);
  EXPECT_EQ(got_nodes->front().epc_bytes, 8 * kGi);  // 65536 / 8 = 8192 MiB

  // The pod list needs only name, cpu_milli and memory_mib; without times there is no lifetime.
  auto got_pods = pods("memory_mib,name,cpu_milli\n2048,pod-a,500\n");
  ASSERT_TRUE(got_pods.ok()) << got_pods.error().message;
  EXPECT_EQ(got_pods->front().name, "pod-a");
  EXPECT_EQ(got_pods->front().cpu_milli, 500);
  EXPECT_EQ(got_pods->front().epc_bytes, 512 * kMi);
  EXPECT_EQ(got_pods->front().lifetime_s, -1);
}

TEST(OpenbReaderTest, CrlfBlankLinesAndByteOrderMarkAreAccepted) {
  auto got = nodes(
      "\xEF\xBB\xBFsn,cpu_milli,memory_mib,gpu,model\r\n"
      "a,1000,800,0,\r\n"
      "\r\n"
      "b,2000,1600,2,G2\r\n"
      "\r\n\n");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].name, "a");
  EXPECT_EQ((*got)[0].epc_bytes, 100 * kMi);
  EXPECT_EQ((*got)[1].name, "b");
  EXPECT_EQ((*got)[1].cpu_milli, 2000);
}

struct LifetimeRow {
  std::string_view name;
  std::string_view created;
  std::string_view deleted;
  std::int64_t want_lifetime_s;
};

TEST(OpenbReaderTest, LifetimeIsDeletionMinusCreation) {
  const LifetimeRow rows[] = {
      {"BothGiven", "427061", "12902960", 12475899},  // 12902960 - 427061
      {"SameSecond", "100", "100", 0},
      {"DeletedBeforeCreated", "500", "400", -1},  // inconsistent: unknown
      {"NoDeletion", "100", "", -1},               // still running at the end of the trace
      {"NoCreation", "", "100", -1},
      {"NeitherGiven", "", "", -1},
  };
  for (const LifetimeRow& row : rows) {
    auto got = pods(std::string(kPodHeader) + pod_row("p", "1024", row.created, row.deleted));
    ASSERT_TRUE(got.ok()) << row.name << ": " << got.error().message;
    EXPECT_EQ(got->front().lifetime_s, row.want_lifetime_s) << row.name;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the source and line, and the column for a bad value.

struct ErrorRow {
  std::string_view name;
  std::string_view input;
  std::string_view want;  // a fragment of the message
};

TEST(OpenbReaderTest, NodeErrors) {
  const ErrorRow rows[] = {
      {"Empty", "", "nodes.csv: empty input, expected a header line"},
      {"OnlyHeader", "sn,cpu_milli,memory_mib\n", "nodes.csv: no node rows"},
      {"MissingColumn", "sn,cpu_milli,gpu\nn,1,0\n",
       "nodes.csv:1: the header has no column \"memory_mib\""},
      {"ColumnTwice", "sn,cpu_milli,memory_mib,sn\nn,1,1,n\n",
       "nodes.csv:1: column \"sn\" appears twice"},
      {"NotANumber", "sn,cpu_milli,memory_mib\na,1,1\nb,1,lots\n",
       "nodes.csv:3: column \"memory_mib\": \"lots\" is not an integer"},
      {"Fraction", "sn,cpu_milli,memory_mib\na,1.5,1\n",
       "nodes.csv:2: column \"cpu_milli\": \"1.5\" is not an integer"},
      {"Negative", "sn,cpu_milli,memory_mib\na,-1000,1\n",
       "nodes.csv:2: column \"cpu_milli\": \"-1000\" is negative"},
      {"EmptyValue", "sn,cpu_milli,memory_mib\na,,1\n",
       "nodes.csv:2: column \"cpu_milli\" is empty"},
      // 2^30 + 1 MiB is past the 1 PiB limit, where MiB -> bytes would approach int64's range.
      {"MemoryAboveLimit", "sn,cpu_milli,memory_mib\na,1,1073741825\n",
       "nodes.csv:2: column \"memory_mib\": \"1073741825\" is above the limit 1073741824"},
      {"MemoryBeyondInt64", "sn,cpu_milli,memory_mib\na,1,99999999999999999999\n",
       "column \"memory_mib\": \"99999999999999999999\" does not fit in 64 bits"},
      {"CpuAboveLimit", "sn,cpu_milli,memory_mib\na,9999999999999999,1\n",
       "column \"cpu_milli\": \"9999999999999999\" is above the limit"},
      {"ShortRow", "sn,cpu_milli,memory_mib\na,1\n", "nodes.csv:2: 2 fields, but the header has 3"},
      {"LongRow", "sn,cpu_milli,memory_mib\n\na,1,2,3\n",
       "nodes.csv:3: 4 fields, but the header has 3"},
      {"EmptyName", "sn,cpu_milli,memory_mib\n,1,2\n", "nodes.csv:2: column \"sn\" is empty"},
      {"DuplicateName", "sn,cpu_milli,memory_mib\na,1,2\nb,1,2\na,1,2\n",
       "nodes.csv:4: node \"a\" was already listed on line 2"},
  };
  for (const ErrorRow& row : rows) {
    auto got = nodes(row.input);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_NE(got.error().message.find(row.want), std::string::npos)
        << row.name << ": " << got.error().message;
  }
}

TEST(OpenbReaderTest, PodErrors) {
  const ErrorRow rows[] = {
      {"OnlyHeader", "name,cpu_milli,memory_mib\n\n", "pods.csv: no pod rows"},
      {"MissingColumn", "name,memory_mib\np,1\n",
       "pods.csv:1: the header has no column \"cpu_milli\""},
      {"NotANumber", "name,cpu_milli,memory_mib\np,4k,1\n",
       "pods.csv:2: column \"cpu_milli\": \"4k\" is not an integer"},
      {"Negative", "name,cpu_milli,memory_mib\np,1,-5\n",
       "pods.csv:2: column \"memory_mib\": \"-5\" is negative"},
      {"MemoryAboveLimit", "name,cpu_milli,memory_mib\np,1,8796093022208\n",  // 2^43 MiB = 8 EiB
       "column \"memory_mib\": \"8796093022208\" is above the limit"},
      {"BadCreationTime", "name,cpu_milli,memory_mib,creation_time,deletion_time\np,1,1,soon,5\n",
       "pods.csv:2: column \"creation_time\": \"soon\" is not an integer"},
      {"BadDeletionAlone", "name,cpu_milli,memory_mib,creation_time,deletion_time\np,1,1,,x\n",
       "pods.csv:2: column \"deletion_time\": \"x\" is not an integer"},
      {"NegativeTime", "name,cpu_milli,memory_mib,creation_time,deletion_time\np,1,1,-3,5\n",
       "column \"creation_time\": \"-3\" is negative"},
      {"EmptyName", "name,cpu_milli,memory_mib\n,1,1\n", "pods.csv:2: column \"name\" is empty"},
  };
  for (const ErrorRow& row : rows) {
    auto got = pods(row.input);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_NE(got.error().message.find(row.want), std::string::npos)
        << row.name << ": " << got.error().message;
  }
}

TEST(OpenbReaderTest, BadMappingIsAnError) {
  OpenbMapping mapping;
  mapping.node_epc_divisor = 0;
  auto got = nodes(std::string(kNodeHeader) + "n,1,1,0,\n", mapping);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("divisors must be > 0"), std::string::npos);

  mapping = {};
  mapping.pod_enclave_slots = -1;
  auto got_pods = pods(std::string(kPodHeader) + pod_row("p", "1", "", ""), mapping);
  ASSERT_FALSE(got_pods.ok());
  EXPECT_NE(got_pods.error().message.find("must be >= 0"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Files

TEST(OpenbReaderTest, UnopenableFileIsAnErrorNamingIt) {
  const std::string path = "/nonexistent-dir/openb_node_list_all_node.csv";
  auto got_nodes = read_openb_nodes(path, OpenbMapping{});
  ASSERT_FALSE(got_nodes.ok());
  EXPECT_EQ(got_nodes.error().message, "cannot open openb trace file \"" + path + "\"");
  auto got_pods = read_openb_pods("/nonexistent-dir/pods.csv", OpenbMapping{});
  ASSERT_FALSE(got_pods.ok());
  EXPECT_NE(got_pods.error().message.find("/nonexistent-dir/pods.csv"), std::string::npos);
}

TEST(OpenbReaderTest, FilesAreReadAndErrorsNameThem) {
  const std::filesystem::path dir = testing::TempDir();
  const std::string node_path = (dir / "openb_reader_test_nodes.csv").string();
  const std::string pod_path = (dir / "openb_reader_test_pods.csv").string();
  std::ofstream(node_path) << kNodeHeader << "n0,96000,393216,8,V100M32\nn1,64000,bad,0,\n";
  std::ofstream(pod_path) << kPodHeader << pod_row("p0", "49152", "0", "3600");

  auto got_nodes = read_openb_nodes(node_path, OpenbMapping{});
  ASSERT_FALSE(got_nodes.ok());
  EXPECT_NE(got_nodes.error().message.find(node_path + ":3: column \"memory_mib\""),
            std::string::npos)
      << got_nodes.error().message;

  auto got_pods = read_openb_pods(pod_path, OpenbMapping{});
  ASSERT_TRUE(got_pods.ok()) << got_pods.error().message;
  ASSERT_EQ(got_pods->size(), 1u);
  EXPECT_EQ(got_pods->front().epc_bytes, 12 * kGi);
  EXPECT_EQ(got_pods->front().lifetime_s, 3600);
  std::filesystem::remove(node_path);
  std::filesystem::remove(pod_path);
}

}  // namespace
}  // namespace epc::tools::sim
