#include "extender/http/handlers/capacity.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "common/value_parsers.h"
#include "extender/core/capacity.h"
#include "extender/core/fit.h"
#include "extender/http/codec/json_writer.h"

namespace epc::http::handlers {

namespace {

constexpr std::int64_t kMaxEpcBytes = std::int64_t{1} << 50;  // 1 PiB: larger is a typo
constexpr std::int64_t kMaxSlots = 1'000'000;

struct NodeRoom {
  std::uint32_t index = 0;
  std::int64_t pods = 0;
};

}  // namespace

common::Result<core::PodRequest> parse_capacity_query(std::string_view query) {
  core::PodRequest shape;
  bool epc_given = false;
  bool enclaves_given = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    const auto bad = [key](const std::string& why) {
      return common::Error{"parameter " + std::string(key) + ": " + why};
    };
    if (key == "epc") {
      auto bytes = common::parse_bytes_in(value, 0, kMaxEpcBytes);
      if (!bytes.ok()) {
        return bad(bytes.error().message);
      }
      shape.epc_bytes = *bytes;
      epc_given = true;
    } else if (key == "enclaves" || key == "provision") {
      auto count = common::parse_int_in(value, 0, kMaxSlots);
      if (!count.ok()) {
        return bad(count.error().message);
      }
      (key == "enclaves" ? shape.enclave_slots : shape.provision_slots) = *count;
      enclaves_given = enclaves_given || key == "enclaves";
    } else {
      return common::Error{"unknown parameter \"" + std::string(key) +
                           "\" (epc, enclaves, provision)"};
    }
  }
  if (epc_given && !enclaves_given && shape.epc_bytes > 0) {
    shape.enclave_slots = 1;
  }
  if (!shape.wants_sgx()) {
    return common::Error{"give the pod shape: epc=<quantity> and/or enclaves=<n>, provision=<n>"};
  }
  return shape;
}

void capacity(const core::PodRequest& shape, const state::ClusterSnapshot& snapshot,
              const HandlerSettings& settings, std::int64_t now_ns, std::string& out) {
  const core::FitContext context{now_ns, settings.stale_after_ns, settings.accounting};
  core::CapacityCounter counter(shape, context);
  std::vector<NodeRoom> room;
  for (std::uint32_t i = 0; i < snapshot.size(); ++i) {
    const std::int64_t pods = counter.add(snapshot.row(i));
    if (pods > 0) {
      room.push_back({i, pods});
    }
  }
  std::sort(room.begin(), room.end(), [&snapshot](const NodeRoom& a, const NodeRoom& b) {
    return a.pods != b.pods ? a.pods > b.pods : snapshot.name(a.index) < snapshot.name(b.index);
  });
  const core::ClusterCapacity& total = counter.result();
  out.clear();
  out.append(R"({"shape":{"epcBytes":)");
  codec::append_json_int(out, shape.epc_bytes);
  out.append(R"(,"enclaveSlots":)");
  codec::append_json_int(out, shape.enclave_slots);
  out.append(R"(,"provisionSlots":)");
  codec::append_json_int(out, shape.provision_slots);
  out.append(R"(},"pods":)");
  codec::append_json_int(out, total.total_pods);
  out.append(R"(,"nodesWithRoom":)");
  codec::append_json_int(out, total.nodes_with_room);
  out.append(R"(,"strandedEpcBytes":)");
  codec::append_json_int(out, total.stranded_epc_bytes);
  out.append(R"(,"nodes":[)");
  for (std::size_t i = 0; i < room.size(); ++i) {
    out.append(i == 0 ? R"({"node":)" : R"(,{"node":)");
    codec::append_json_string(out, snapshot.name(room[i].index));
    out.append(R"(,"pods":)");
    codec::append_json_int(out, room[i].pods);
    out.append(R"(,"freeEpcBytes":)");
    codec::append_json_int(out,
                           core::free_epc_bytes(snapshot.row(room[i].index), settings.accounting));
    out.push_back('}');
  }
  out.append("]}");
}

void write_capacity_error(std::string_view message, std::string& out) {
  out.assign(R"({"error":)");
  codec::append_json_string(out, message);
  out.push_back('}');
}

}  // namespace epc::http::handlers
