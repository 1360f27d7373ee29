// Fuzz target: epc-sim's generic trace reader, the same bytes as YAML and as CSV. Neither may
// crash or throw; every refusal is explained; an accepted trace holds at least one node and one
// pod, unique node names, at most kGenericMaxEntries entries, and every figure within the limits
// of tools/sim/generic_reader.h (a node's *_used never above what it has).
#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tools/sim/generic_reader.h"

namespace {

namespace sim = epc::tools::sim;

bool in(std::int64_t value, std::int64_t low, std::int64_t high) {
  return value >= low && value <= high;
}

void check_trace(const sim::Trace& trace) {
  EPC_FUZZ_CHECK(!trace.nodes.empty() && !trace.pods.empty());
  EPC_FUZZ_CHECK(static_cast<std::int64_t>(trace.nodes.size() + trace.pods.size()) <=
                 sim::kGenericMaxEntries);
  std::set<std::string> names;
  for (const auto& node : trace.nodes) {
    EPC_FUZZ_CHECK(!node.name.empty());
    EPC_FUZZ_CHECK(names.insert(node.name).second);
    EPC_FUZZ_CHECK(in(node.cpu_milli, 0, sim::kGenericMaxCpuMilli));
    EPC_FUZZ_CHECK(in(node.memory_bytes, 0, sim::kGenericMaxBytes));
    EPC_FUZZ_CHECK(in(node.epc_bytes, 0, sim::kGenericMaxBytes));
    EPC_FUZZ_CHECK(in(node.enclave_slots, 0, sim::kGenericMaxSlots));
    EPC_FUZZ_CHECK(in(node.max_pods, 0, sim::kGenericMaxSlots));
    EPC_FUZZ_CHECK(in(node.epc_used_bytes, 0, node.epc_bytes));
    EPC_FUZZ_CHECK(in(node.enclave_slots_used, 0, node.enclave_slots));
    EPC_FUZZ_CHECK(in(node.pods_used, 0, node.max_pods));
  }
  for (const auto& pod : trace.pods) {
    EPC_FUZZ_CHECK(!pod.name.empty());
    EPC_FUZZ_CHECK(in(pod.cpu_milli, 0, sim::kGenericMaxCpuMilli));
    EPC_FUZZ_CHECK(in(pod.memory_bytes, 0, sim::kGenericMaxBytes));
    EPC_FUZZ_CHECK(in(pod.epc_bytes, 0, sim::kGenericMaxBytes));
    EPC_FUZZ_CHECK(in(pod.enclave_slots, 0, sim::kGenericMaxSlots));
    EPC_FUZZ_CHECK(pod.lifetime_s >= -1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto yaml = sim::read_generic_yaml(text);
  epc::fuzz::check_error_explained(yaml);
  if (yaml.ok()) {
    check_trace(*yaml);
  }

  std::istringstream csv_stream{std::string(text)};
  const auto csv = sim::read_generic_csv(csv_stream);
  epc::fuzz::check_error_explained(csv);
  if (csv.ok()) {
    check_trace(*csv);
  }
  return 0;
}
