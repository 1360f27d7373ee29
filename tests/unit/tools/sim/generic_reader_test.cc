#include "tools/sim/generic_reader.h"

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

common::Result<Trace> csv(std::string_view text) {
  std::istringstream in{std::string(text)};
  return read_generic_csv(in, "cluster.csv");
}

common::Result<Trace> yaml(std::string_view text) {
  return read_generic_yaml(text, "cluster.yaml");
}

// One line per node and pod with every field, so two traces compare as text with a readable diff.
// A node's pre-existing use is shown only when it has some, as " used=epc/slots/pods".
std::string describe(const Trace& trace) {
  std::ostringstream out;
  for (const SimNode& n : trace.nodes) {
    out << "node " << n.name << " cpu=" << n.cpu_milli << " mem=" << n.memory_bytes
        << " epc=" << n.epc_bytes << " slots=" << n.enclave_slots << " max_pods=" << n.max_pods;
    if (n.epc_used_bytes != 0 || n.enclave_slots_used != 0 || n.pods_used != 0) {
      out << " used=" << n.epc_used_bytes << "/" << n.enclave_slots_used << "/" << n.pods_used;
    }
    out << "\n";
  }
  for (const SimPod& p : trace.pods) {
    out << "pod " << p.name << " cpu=" << p.cpu_milli << " mem=" << p.memory_bytes
        << " epc=" << p.epc_bytes << " slots=" << p.enclave_slots << " life=" << p.lifetime_s
        << "\n";
  }
  return out.str();
}

// The same small cluster in both syntaxes: two large nodes (count 2), one small node with its own
// slot and pod limits, three web pods and one batch pod without EPC.
constexpr std::string_view kClusterCsv =
    "kind,name,count,cpu,memory,epc,enclave_slots,max_pods,lifetime\n"
    "node,sgx-large,2,64,512Gi,64Gi,,,\n"
    "node,sgx-small,,8,32Gi,8Gi,20,30,\n"
    "pod,web,3,500m,1Gi,256Mi,,,2h\n"
    "pod,batch,,2,4Gi,,,,90\n";

constexpr std::string_view kClusterYaml = R"(
nodes:
  - {name: sgx-large, count: 2, cpu: "64", memory: 512Gi, epc: 64Gi}
  - name: sgx-small
    cpu: 8
    memory: 32Gi
    epc: 8Gi
    enclaveSlots: 20
    maxPods: 30
pods:
  - {name: web, count: 3, cpu: 500m, memory: 1Gi, epc: 256Mi, lifetime: 2h}
  - {name: batch, cpu: "2", memory: 4Gi, lifetime: 90}
)";

constexpr std::string_view kClusterDescribed =
    "node sgx-large-0 cpu=64000 mem=549755813888 epc=68719476736 slots=110 max_pods=110\n"
    "node sgx-large-1 cpu=64000 mem=549755813888 epc=68719476736 slots=110 max_pods=110\n"
    "node sgx-small cpu=8000 mem=34359738368 epc=8589934592 slots=20 max_pods=30\n"
    "pod web cpu=500 mem=1073741824 epc=268435456 slots=1 life=7200\n"
    "pod web cpu=500 mem=1073741824 epc=268435456 slots=1 life=7200\n"
    "pod web cpu=500 mem=1073741824 epc=268435456 slots=1 life=7200\n"
    "pod batch cpu=2000 mem=4294967296 epc=0 slots=1 life=90\n";

// ---------------------------------------------------------------------------------------------
// Reading

TEST(GenericReaderTest, CsvReadsEveryKeyWithDefaults) {
  auto got = csv(kClusterCsv);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(describe(*got), kClusterDescribed);
}

TEST(GenericReaderTest, YamlAndCsvAgreeOnTheSameCluster) {
  auto from_yaml = yaml(kClusterYaml);
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.error().message;
  auto from_csv = csv(kClusterCsv);
  ASSERT_TRUE(from_csv.ok()) << from_csv.error().message;
  EXPECT_EQ(describe(*from_yaml), describe(*from_csv));
  EXPECT_EQ(describe(*from_yaml), kClusterDescribed);
}

TEST(GenericReaderTest, CsvColumnsInAnyOrderOptionalOnesOmittedAliasesAccepted) {
  auto got =
      csv(" epc , memory,cpu,name,kind,enclaveSlots\r\n"
          "16Gi,128Gi,16,big,node,50\r\n"
          "\r\n"
          ",2Gi,1.5,api,pod,\r\n");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(describe(*got),
            "node big cpu=16000 mem=137438953472 epc=17179869184 slots=50 max_pods=110\n"
            "pod api cpu=1500 mem=2147483648 epc=0 slots=1 life=-1\n");
}

TEST(GenericReaderTest, CountReplicatesAndZeroDropsARow) {
  // count 1 keeps the name as written; count 0 removes the row (handy to switch one off).
  auto got =
      csv("kind,name,count,cpu,memory,epc\n"
          "node,a,3,1,1Gi,128Mi\n"
          "node,b,1,1,1Gi,128Mi\n"
          "node,c,0,1,1Gi,128Mi\n"
          "pod,p,2,100m,64Mi,16Mi\n"
          "pod,q,0,100m,64Mi,16Mi\n");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->nodes.size(), 4u);
  EXPECT_EQ(got->nodes[0].name, "a-0");
  EXPECT_EQ(got->nodes[2].name, "a-2");
  EXPECT_EQ(got->nodes[3].name, "b");
  ASSERT_EQ(got->pods.size(), 2u);
  EXPECT_EQ(got->pods[0].name, "p");
  EXPECT_EQ(got->pods[1].name, "p");
  EXPECT_EQ(got->pods[1].epc_bytes, 16 * kMi);
}

struct LifetimeRow {
  std::string_view name;
  std::string_view text;
  std::int64_t want_s;
};

TEST(GenericReaderTest, LifetimeUnits) {
  const LifetimeRow rows[] = {
      {"PlainSeconds", "90", 90}, {"Seconds", "90s", 90}, {"Minutes", "30m", 1800},  // 30 · 60
      {"Hours", "2h", 7200},                                                         // 2 · 3600
      {"Days", "1d", 86400},                                                         // 24 · 3600
      {"Zero", "0", 0},           {"Empty", "", -1},  // unknown: the pod never leaves in a churn
                                                      // run
  };
  for (const LifetimeRow& row : rows) {
    auto got = csv("kind,name,cpu,memory,epc,lifetime\nnode,n,1,1Gi,1Gi,\npod,p,1,1Gi,1Mi," +
                   std::string(row.text) + "\n");
    ASSERT_TRUE(got.ok()) << row.name << ": " << got.error().message;
    EXPECT_EQ(got->pods.front().lifetime_s, row.want_s) << row.name;
  }
}

// A running cluster's state (what epcctl snapshot writes): nodes partly used by pods that stay.
// The busy row is replicated with its use; the idle node takes the defaults (nothing used).
constexpr std::string_view kUsedCsv =
    "kind,name,count,cpu,memory,epc,enclave_slots,max_pods,epc_used,enclave_slots_used,pods_used\n"
    "node,busy,2,32,128Gi,16Gi,,,12Gi,3,4\n"
    "node,idle,,32,128Gi,16Gi,8,20,,,\n"
    "node,full,,32,128Gi,16Gi,8,20,16Gi,8,20\n"
    "pod,web,,1,4Gi,2Gi,,,,,\n";

constexpr std::string_view kUsedYaml = R"(
nodes:
  - {name: busy, count: 2, cpu: 32, memory: 128Gi, epc: 16Gi, epc_used: 12Gi,
     enclave_slots_used: 3, pods_used: 4}
  - {name: idle, cpu: 32, memory: 128Gi, epc: 16Gi, enclaveSlots: 8, maxPods: 20}
  - {name: full, cpu: 32, memory: 128Gi, epc: 16Gi, enclaveSlots: 8, maxPods: 20,
     epcUsed: 16Gi, enclaveSlotsUsed: 8, podsUsed: 20}
pods:
  - {name: web, cpu: 1, memory: 4Gi, epc: 2Gi}
)";

// 12Gi = 12884901888 bytes; "full" uses exactly its capacity, which is allowed.
constexpr std::string_view kUsedDescribed =
    "node busy-0 cpu=32000 mem=137438953472 epc=17179869184 slots=110 max_pods=110 "
    "used=12884901888/3/4\n"
    "node busy-1 cpu=32000 mem=137438953472 epc=17179869184 slots=110 max_pods=110 "
    "used=12884901888/3/4\n"
    "node idle cpu=32000 mem=137438953472 epc=17179869184 slots=8 max_pods=20\n"
    "node full cpu=32000 mem=137438953472 epc=17179869184 slots=8 max_pods=20 "
    "used=17179869184/8/20\n"
    "pod web cpu=1000 mem=4294967296 epc=2147483648 slots=1 life=-1\n";

TEST(GenericReaderTest, UsedKeysInCsvAndYamlWithDefaultsAndReplication) {
  auto from_csv = csv(kUsedCsv);
  ASSERT_TRUE(from_csv.ok()) << from_csv.error().message;
  EXPECT_EQ(describe(*from_csv), kUsedDescribed);
  auto from_yaml = yaml(kUsedYaml);
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.error().message;
  EXPECT_EQ(describe(*from_yaml), kUsedDescribed);
  EXPECT_EQ(from_yaml->nodes[0].epc_used_bytes, 12 * kGi);
}

TEST(GenericReaderTest, UsedKeysAreOptionalColumnsAndDefaultToZero) {
  // The older header without the three columns still reads, and every node starts empty.
  auto got = csv(kClusterCsv);
  ASSERT_TRUE(got.ok()) << got.error().message;
  for (const SimNode& n : got->nodes) {
    EXPECT_EQ(n.epc_used_bytes, 0) << n.name;
    EXPECT_EQ(n.enclave_slots_used, 0) << n.name;
    EXPECT_EQ(n.pods_used, 0) << n.name;
  }
  // camelCase column names, one column only, quantities in any notation.
  auto camel =
      csv("kind,name,cpu,memory,epc,epcUsed\n"
          "node,n,1,1Gi,1Gi,512Mi\n"
          "node,m,1,1Gi,1Gi,1073741824\n"
          "pod,p,1,1Gi,1Mi,\n");
  ASSERT_TRUE(camel.ok()) << camel.error().message;
  EXPECT_EQ(camel->nodes[0].epc_used_bytes, 512 * kMi);
  EXPECT_EQ(camel->nodes[1].epc_used_bytes, kGi);
  EXPECT_EQ(camel->nodes[1].pods_used, 0);
}

TEST(GenericReaderTest, YamlNullValuesAndEmptyListsMeanNotGiven) {
  auto got = yaml(
      "nodes:\n"
      "  - {name: n, cpu: 1, memory: 1Gi, epc: 1Gi, enclave_slots: ~}\n"
      "pods:\n"
      "  - {name: p, cpu: 1, memory: 1Gi, epc: , lifetime: null}\n");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(describe(*got),
            "node n cpu=1000 mem=1073741824 epc=1073741824 slots=110 max_pods=110\n"
            "pod p cpu=1000 mem=1073741824 epc=0 slots=1 life=-1\n");
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the source and line (and, in YAML, the column).

struct ErrorRow {
  std::string_view name;
  std::string input;      // owned: many rows are built from the pieces below
  std::string_view want;  // a fragment of the message
};

constexpr std::string_view kHeader =
    "kind,name,count,cpu,memory,epc,enclave_slots,max_pods,lifetime\n";

std::string with_header(std::string_view rows) { return std::string(kHeader) + std::string(rows); }

TEST(GenericReaderTest, CsvErrors) {
  const std::string node = "node,n,,1,1Gi,1Gi,,,\n";
  const std::string pod = "pod,p,,1,1Gi,1Mi,,,\n";
  const ErrorRow rows[] = {
      {"Empty", "", "cluster.csv: empty input, expected a header line"},
      {"UnknownColumn", "kind,name,cpu,memory,epc,epcc\n",
       "cluster.csv:1: unknown column \"epcc\" (known: kind, name, count"},
      {"ColumnTwiceViaAlias", "kind,name,cpu,memory,epc,max_pods,maxPods\n",
       "cluster.csv:1: column \"maxPods\" is given twice"},
      {"NoKindColumn", "name,cpu,memory,epc\n", "cluster.csv:1: the header has no column \"kind\""},
      {"NoEpcColumn", "kind,name,cpu,memory\n", "cluster.csv:1: the header has no column \"epc\""},
      {"UnknownKind", with_header("vm,x,,1,1Gi,1Gi,,,\n"),
       "cluster.csv:2: kind \"vm\" is not node or pod"},
      {"WrongCellCount", with_header("node,n,1,1Gi\n"),
       "cluster.csv:2: 4 cells, but the header has 9"},
      {"NoName", with_header("node,,,1,1Gi,1Gi,,,\n"), "cluster.csv:2: node without a name"},
      {"BadCpu", with_header(node + "pod,p,,fast,1Gi,,,,\n"),
       "cluster.csv:3: pod \"p\": cpu: invalid quantity \"fast\""},
      {"NegativeMemory", with_header("node,n,,1,-1Gi,1Gi,,,\n"),
       "cluster.csv:2: node \"n\": memory: \"-1Gi\" is out of range 0..1Pi"},
      {"NegativeCpu", with_header("node,n,,-2,1Gi,1Gi,,,\n"),
       "node \"n\": cpu: \"-2\" is out of range"},
      {"EpcAboveLimit", with_header("node,n,,1,1Gi,2Pi,,,\n"),  // 2 PiB > the 1 PiB limit
       "node \"n\": epc: \"2Pi\" is out of range 0..1Pi"},
      {"QuantityOverflow", with_header("node,n,,1,9Ei,1Gi,,,\n"),  // 9 · 2^60 > int64
       "node \"n\": memory: invalid quantity \"9Ei\""},
      {"FractionalBytes", with_header("node,n,,1,0.5,1Gi,,,\n"),
       "memory: invalid quantity \"0.5\""},
      {"NodeWithoutEpc", with_header("node,n,,1,1Gi,,,,\n"), "node \"n\": epc: missing"},
      {"PodWithoutMemory", with_header(node + "pod,p,,1,,,,,\n"),
       "cluster.csv:3: pod \"p\": memory: missing"},
      {"NodeWithLifetime", with_header("node,n,,1,1Gi,1Gi,,,1h\n"),
       "node \"n\": lifetime: applies to pods only"},
      {"PodWithMaxPods", with_header(node + "pod,p,,1,1Gi,,,5,\n"),
       "pod \"p\": max_pods: applies to nodes only"},
      {"CountNotANumber", with_header("node,n,two,1,1Gi,1Gi,,,\n"),
       "node \"n\": count: \"two\" is not an integer"},
      {"CountAboveLimit", with_header(node + "pod,p,1000001,1,1Gi,,,,\n"),
       "pod \"p\": count: \"1000001\" is out of range 0..1000000"},
      {"NegativeSlots", with_header("node,n,,1,1Gi,1Gi,-1,,\n"),
       "node \"n\": enclave_slots: \"-1\" is out of range 0..1000000"},
      {"BadLifetime", with_header(node + "pod,p,,1,1Gi,,,,1.5h\n"),
       "pod \"p\": lifetime: \"1.5h\" is not a whole number of seconds"},
      {"LifetimeUnknownUnit", with_header(node + "pod,p,,1,1Gi,,,,3w\n"), "lifetime: \"3w\""},
      {"LifetimeOverflow", with_header(node + "pod,p,,1,1Gi,,,,999999999999999999d\n"),
       "lifetime: \"999999999999999999d\""},
      {"DuplicateNodeName",
       with_header("node,a,2,1,1Gi,1Gi,,,\n" + pod + "node,a-1,,1,1Gi,1Gi,,,\n"),
       "cluster.csv:4: node \"a-1\" is already defined at cluster.csv:2"},
      {"NoPods", with_header(node), "cluster.csv: the trace defines no pods"},
      {"NoNodes", with_header(pod), "cluster.csv: the trace defines no nodes"},
      {"OnlyZeroCounts", with_header("node,n,0,1,1Gi,1Gi,,,\n" + pod),
       "the trace defines no nodes"},
      // One node and a million pods, then another million: the second row is refused before any
      // copy is made (1 + 1,000,000 + 1,000,000 > 2,000,000).
      {"TotalAboveLimit", with_header(node + "pod,p,1000000,1,1Gi,,,,\npod,q,1000000,1,1Gi,,,,\n"),
       "cluster.csv:4: pod \"q\": count: the trace would hold more than 2000000 nodes and pods"},
  };
  for (const ErrorRow& row : rows) {
    auto got = csv(row.input);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_NE(got.error().message.find(row.want), std::string::npos)
        << row.name << ": " << got.error().message;
  }
}

// The *_used keys: nodes only, a valid value each, and never more than the node has.
TEST(GenericReaderTest, UsedKeyErrors) {
  const std::string header =
      "kind,name,count,cpu,memory,epc,enclave_slots,max_pods,epc_used,enclave_slots_used,"
      "pods_used\n";
  const std::string node = "node,n,,1,1Gi,16Gi,,,,,\n";
  const ErrorRow rows[] = {
      {"PodWithEpcUsed", header + node + "pod,p,,1,1Gi,1Gi,,,1Gi,,\n",
       "cluster.csv:3: pod \"p\": epc_used: applies to nodes only"},
      {"PodWithSlotsUsed", header + node + "pod,p,,1,1Gi,1Gi,,,,1,\n",
       "cluster.csv:3: pod \"p\": enclave_slots_used: applies to nodes only"},
      {"PodWithPodsUsed", header + node + "pod,p,,1,1Gi,1Gi,,,,,1\n",
       "cluster.csv:3: pod \"p\": pods_used: applies to nodes only"},
      {"EpcUsedAboveEpc", header + "node,n,,1,1Gi,16Gi,,,17Gi,,\n",
       "cluster.csv:2: node \"n\": epc_used: \"17Gi\" is more than the node's epc (16Gi)"},
      // 110 is the default the error names, since enclave_slots was not written.
      {"SlotsUsedAboveDefaultSlots", header + "node,n,,1,1Gi,16Gi,,,,111,\n",
       "cluster.csv:2: node \"n\": enclave_slots_used: \"111\" is more than the node's "
       "enclave_slots (110, the default)"},
      {"SlotsUsedAboveSlots", header + "node,n,,1,1Gi,16Gi,4,,,5,\n",
       "node \"n\": enclave_slots_used: \"5\" is more than the node's enclave_slots (4)"},
      {"PodsUsedAboveMaxPods", header + "node,n,,1,1Gi,16Gi,,30,,,31\n",
       "node \"n\": pods_used: \"31\" is more than the node's max_pods (30)"},
      {"BadEpcUsed", header + "node,n,,1,1Gi,16Gi,,,12GB,,\n",
       "cluster.csv:2: node \"n\": epc_used: invalid quantity \"12GB\""},
      {"NegativeEpcUsed", header + "node,n,,1,1Gi,16Gi,,,-1Gi,,\n",
       "node \"n\": epc_used: \"-1Gi\" is out of range 0..1Pi"},
      {"PodsUsedNotANumber", header + "node,n,,1,1Gi,16Gi,,,,,three\n",
       "node \"n\": pods_used: \"three\" is not an integer"},
      {"SlotsUsedNegative", header + "node,n,,1,1Gi,16Gi,,,,-1,\n",
       "node \"n\": enclave_slots_used: \"-1\" is out of range 0..1000000"},
      {"AliasTwice", "kind,name,cpu,memory,epc,pods_used,podsUsed\n",
       "cluster.csv:1: column \"podsUsed\" is given twice"},
  };
  for (const ErrorRow& row : rows) {
    auto got = csv(row.input);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_NE(got.error().message.find(row.want), std::string::npos)
        << row.name << ": " << got.error().message;
  }
  // YAML reports the value's own line and column.
  const std::string nodes =
      "nodes:\n  - {name: n, cpu: 1, memory: 1Gi, epc: 16Gi, epc_used: 12Gi}\n";
  const ErrorRow yaml_rows[] = {
      {"PodWithEpcUsed", nodes + "pods:\n  - {name: p, cpu: 1, memory: 1Gi, epc_used: 1Gi}\n",
       "cluster.yaml:4:46: pod \"p\": epc_used: applies to nodes only"},
      {"PodWithPodsUsedCamel", nodes + "pods:\n  - {name: p, cpu: 1, memory: 1Gi, podsUsed: 1}\n",
       "cluster.yaml:4:46: pod \"p\": pods_used: applies to nodes only"},
      {"EpcUsedAboveEpc",
       "nodes:\n  - name: n\n    cpu: 1\n    memory: 1Gi\n    epc: 16Gi\n    epcUsed: 20Gi\n",
       "cluster.yaml:6:14: node \"n\": epc_used: \"20Gi\" is more than the node's epc (16Gi)"},
      {"BadQuantity", "nodes: [{name: n, cpu: 1, memory: 1Gi, epc: 16Gi, epc_used: lots}]\n",
       "cluster.yaml:1:61: node \"n\": epc_used: invalid quantity \"lots\""},
      {"SlotsUsedTwice", "nodes: [{name: n, enclave_slots_used: 1, enclaveSlotsUsed: 2}]\n",
       "cluster.yaml:1:42: nodes[0]: enclave_slots_used is given twice"},
  };
  for (const ErrorRow& row : yaml_rows) {
    auto got = yaml(row.input);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_NE(got.error().message.find(row.want), std::string::npos)
        << row.name << ": " << got.error().message;
  }
}

TEST(GenericReaderTest, YamlErrors) {
  const std::string node = "nodes: [{name: n, cpu: 1, memory: 1Gi, epc: 1Gi}]\n";
  const ErrorRow rows[] = {
      {"NotYaml", "nodes: [{name: n\n", "cluster.yaml:2:1: not valid YAML"},
      {"Empty", "", "cluster.yaml: expected a map with the lists nodes: and pods:"},
      {"TopLevelList", "- a\n- b\n", "expected a map with the lists nodes: and pods:"},
      {"UnknownTopKey", node + "pod: []\n",
       "cluster.yaml:2:1: unknown key \"pod\" (known: nodes, pods)"},
      {"TopKeyTwice", node + "nodes: []\n", "cluster.yaml:2:1: nodes is given twice"},
      {"NodesNotAList", "nodes: {name: n}\n", "cluster.yaml:1:8: nodes must be a list"},
      {"ItemNotAMap", "nodes:\n  - n\n", "cluster.yaml:2:5: nodes[0] must be a map of keys"},
      // A typo must not be ignored: "epcc" is reported where it stands.
      {"UnknownKey", node + "pods:\n  - {name: p, cpu: 1, memory: 1Gi, epcc: 1Mi}\n",
       "cluster.yaml:3:36: pods[0]: unknown key \"epcc\" (known: name, count"},
      {"KindIsNotAYamlKey", "nodes: [{kind: node, name: n}]\n", "unknown key \"kind\""},
      {"KeyTwiceViaAlias", "nodes: [{name: n, max_pods: 1, maxPods: 2}]\n",
       "cluster.yaml:1:32: nodes[0]: max_pods is given twice"},
      {"ValueIsAList", "nodes: [{name: n, cpu: [1, 2]}]\n",
       "cluster.yaml:1:24: nodes[0]: cpu must be a single value"},
      {"BadQuantityAtItsValue", node + "pods:\n  - name: p\n    cpu: 1\n    memory: 1GB\n",
       "cluster.yaml:5:13: pod \"p\": memory: invalid quantity \"1GB\""},
      {"MissingKeyAtItsMap", node + "pods:\n  - {name: p, cpu: 1}\n",
       "cluster.yaml:3:5: pod \"p\": memory: missing"},
      {"CountAboveLimit", node + "pods: [{name: p, count: 2000000, cpu: 1, memory: 1Gi}]\n",
       "pod \"p\": count: \"2000000\" is out of range 0..1000000"},
      {"NoPods", node, "cluster.yaml: the trace defines no pods"},
      {"NullPods", node + "pods:\n", "cluster.yaml: the trace defines no pods"},
  };
  for (const ErrorRow& row : rows) {
    auto got = yaml(row.input);
    ASSERT_FALSE(got.ok()) << row.name;
    EXPECT_NE(got.error().message.find(row.want), std::string::npos)
        << row.name << ": " << got.error().message;
  }
}

TEST(GenericReaderTest, YamlLargerThanTheLimitIsRefused) {
  const std::string huge(static_cast<std::size_t>(kGenericMaxFileBytes) + 1, '#');
  auto got = yaml(huge);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "cluster.yaml: larger than 64 MiB");
}

// ---------------------------------------------------------------------------------------------
// Files

class GenericReaderFileTest : public testing::Test {
 protected:
  std::string write(std::string_view file_name, std::string_view text) {
    const std::string path = (std::filesystem::path(testing::TempDir()) / file_name).string();
    std::ofstream(path, std::ios::binary) << text;
    written_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& path : written_) {
      std::filesystem::remove(path);
    }
  }

 private:
  std::vector<std::string> written_;
};

TEST_F(GenericReaderFileTest, SyntaxFollowsTheExtension) {
  for (std::string_view file_name : {"generic_reader_test.yaml", "generic_reader_test.YML"}) {
    auto got = read_generic_trace(write(file_name, kClusterYaml));
    ASSERT_TRUE(got.ok()) << file_name << ": " << got.error().message;
    EXPECT_EQ(describe(*got), kClusterDescribed) << file_name;
  }
  auto got = read_generic_trace(write("generic_reader_test.csv", kClusterCsv));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(describe(*got), kClusterDescribed);
}

TEST_F(GenericReaderFileTest, ErrorsNameTheFile) {
  const std::string path = write("generic_reader_test_bad.yaml", "nodes: [{name: n, cpuu: 1}]\n");
  auto got = read_generic_trace(path);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find(path + ":1:19: nodes[0]: unknown key \"cpuu\""),
            std::string::npos)
      << got.error().message;
}

TEST_F(GenericReaderFileTest, UnknownExtensionIsAnError) {
  const std::string path = write("generic_reader_test.json", "{}");
  auto got = read_generic_trace(path);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("unknown trace format \".json\""), std::string::npos)
      << got.error().message;
}

TEST_F(GenericReaderFileTest, UnopenableFileIsAnErrorNamingIt) {
  auto got = read_generic_trace("/nonexistent-dir/cluster.yaml");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "cannot open trace file \"/nonexistent-dir/cluster.yaml\"");
}

}  // namespace
}  // namespace epc::tools::sim
