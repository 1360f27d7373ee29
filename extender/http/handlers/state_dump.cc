#include "extender/http/handlers/state_dump.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "extender/core/fit.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/handlers/fit_reason_text.h"

namespace epc::http::handlers {

namespace {

void append_slots(std::string& out, const char* name, std::int64_t total, std::int64_t used) {
  out.append(",\"").append(name).append(R"(":{"total":)");
  codec::append_json_int(out, total);
  out.append(R"(,"used":)");
  codec::append_json_int(out, used);
  out.push_back('}');
}

void append_allocatable(std::string& out, const char* name, std::int64_t allocatable,
                        std::int64_t requested) {
  out.append(",\"").append(name).append(R"(":{"allocatable":)");
  codec::append_json_int(out, allocatable);
  out.append(R"(,"requested":)");
  codec::append_json_int(out, requested);
  out.push_back('}');
}

}  // namespace

void state_dump(const state::ClusterSnapshot& snapshot, const HandlerSettings& settings,
                std::int64_t now_ns, std::string& out) {
  out.assign(R"({"epcHeadroomBytes":)");
  codec::append_json_int(out, settings.accounting.epc_headroom_bytes);
  out.append(R"(,"nodes":[)");
  const state::PodTable& pods = snapshot.pods();
  for (std::uint32_t i = 0; i < snapshot.size(); ++i) {
    const core::NodeRow& row = snapshot.row(i);
    const core::FitReason trust = core::node_trust(row, now_ns, settings.stale_after_ns);
    out.append(i == 0 ? R"({"node":)" : R"(,{"node":)");
    codec::append_json_string(out, snapshot.name(i));
    out.append(trust == core::FitReason::kFits ? R"(,"trusted":true)" : R"(,"trusted":false)");
    if (trust != core::FitReason::kFits) {
      out.append(R"(,"why":)");
      codec::append_json_string(out, fit_reason_text(trust));
    }
    const std::int64_t report_ns = row.report_time_ns;
    out.append(R"(,"reportAgeMs":)");
    if (row.ever_reported) {
      codec::append_json_int(out, now_ns > report_ns ? (now_ns - report_ns) / 1'000'000 : 0);
    } else {
      out.append("null");
    }
    out.append(R"(,"epcCapacityBytes":)");
    codec::append_json_int(out, row.epc_capacity_bytes);
    out.append(R"(,"epcRequestedBytes":)");
    codec::append_json_int(out, row.epc_requested_bytes);
    out.append(R"(,"epcLiveUsedBytes":)");
    if (row.live_used_known) {
      codec::append_json_int(out, row.epc_live_used_bytes);
    } else {
      out.append("null");
    }
    out.append(R"(,"epcFreeBytes":)");
    codec::append_json_int(out, core::free_epc_bytes(row, settings.accounting));
    append_slots(out, "enclaveSlots", row.enclave_slots_total, row.enclave_slots_used);
    append_slots(out, "provisionSlots", row.provision_slots_total, row.provision_slots_used);
    if (row.cpu_memory_known) {
      append_allocatable(out, "cpuMilli", row.cpu_allocatable_milli, row.cpu_requested_milli);
      append_allocatable(out, "memoryBytes", row.memory_allocatable_bytes,
                         row.memory_requested_bytes);
    }
    out.append(R"(,"pods":)");
    codec::append_json_int(out, static_cast<std::int64_t>(pods.on_node(snapshot.name(i)).size()));
    out.push_back('}');
  }

  using Shape = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // EPC, enclaves, provision
  std::map<Shape, std::int64_t> shapes;
  std::int64_t unknown_epc = 0;
  for (const state::PodRecord& pod : pods.all()) {
    if (!pod.epc_known) {
      ++unknown_epc;
      continue;
    }
    ++shapes[{pod.request.epc_bytes, pod.request.enclave_slots, pod.request.provision_slots}];
  }
  std::vector<std::pair<Shape, std::int64_t>> ranked(shapes.begin(), shapes.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  out.append(R"(],"podShapes":[)");
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& [shape, count] = ranked[i];
    out.append(i == 0 ? R"({"epcBytes":)" : R"(,{"epcBytes":)");
    codec::append_json_int(out, std::get<0>(shape));
    out.append(R"(,"enclaveSlots":)");
    codec::append_json_int(out, std::get<1>(shape));
    out.append(R"(,"provisionSlots":)");
    codec::append_json_int(out, std::get<2>(shape));
    out.append(R"(,"pods":)");
    codec::append_json_int(out, count);
    out.push_back('}');
  }
  out.append(R"(],"podsWithUnknownEpc":)");
  codec::append_json_int(out, unknown_epc);
  out.push_back('}');
}

}  // namespace epc::http::handlers
