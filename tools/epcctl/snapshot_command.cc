#include "tools/epcctl/snapshot_command.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <boost/json.hpp>

#include "common/byte_format.h"

namespace epc::tools::epcctl {

namespace {

namespace json = boost::json;

constexpr std::int64_t kSimDefaultMaxPods = 110;  // epc-sim's (and kubelet's) default maxPods

// A member that must be an integer; nullopt when it is missing or not one.
std::optional<std::int64_t> integer(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->as_int64();
  }
  if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  return std::nullopt;
}

std::optional<std::int64_t> slots(const json::object& node, std::string_view key,
                                  std::string_view part) {
  const json::value* value = node.if_contains(key);
  if (value == nullptr || !value->is_object()) {
    return std::nullopt;
  }
  return integer(value->as_object(), part);
}

std::string cpu_text(std::int64_t milli) {
  return milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
}

// YAML double-quoted scalar: node names are DNS-1123 in a real cluster, but the extender accepts
// what plugins send, so quote and escape rather than trust it.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\x";
      const char* hex = "0123456789abcdef";
      out.push_back(hex[(c >> 4) & 0xf]);
      out.push_back(hex[c & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

struct Shape {
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t provision_slots = 0;
  std::int64_t pods = 0;
};

}  // namespace

common::Result<std::string> snapshot_yaml(http_client::HttpClient& client,
                                          const EpcctlOptions& options,
                                          std::string_view generated_at) {
  const std::string where = options.host + ":" + std::to_string(options.port);
  auto reply = client.get("/state");
  if (!reply.ok()) {
    return common::Error{"asking the extender at " + where + ": " + reply.error().message};
  }
  if (reply->status != 200) {
    return common::Error{"the extender at " + where + " answered GET /state with HTTP " +
                         std::to_string(reply->status) + " (an extender older than /state?)"};
  }
  boost::system::error_code ec;
  const json::value answer = json::parse(reply->body, ec);
  const json::object* state = !ec && answer.is_object() ? &answer.as_object() : nullptr;
  const json::value* nodes = state != nullptr ? state->if_contains("nodes") : nullptr;
  const json::value* shapes = state != nullptr ? state->if_contains("podShapes") : nullptr;
  const std::optional<std::int64_t> headroom =
      state != nullptr ? integer(*state, "epcHeadroomBytes") : std::nullopt;
  if (nodes == nullptr || !nodes->is_array() || shapes == nullptr || !shapes->is_array() ||
      !headroom) {
    return common::Error{"the extender at " + where +
                         " answered GET /state with something that is not its state JSON"};
  }

  std::string node_lines;
  std::string left_out;
  std::size_t kept = 0;
  for (const json::value& value : nodes->as_array()) {
    const json::object* node = value.is_object() ? &value.as_object() : nullptr;
    const json::value* name = node != nullptr ? node->if_contains("node") : nullptr;
    const json::value* trusted = node != nullptr ? node->if_contains("trusted") : nullptr;
    if (name == nullptr || !name->is_string() || trusted == nullptr || !trusted->is_bool()) {
      return common::Error{"the extender's /state lists a node without a name or trust"};
    }
    const std::string_view node_name = name->as_string();
    if (!trusted->as_bool()) {
      const json::value* why = node->if_contains("why");
      left_out += "#   " + std::string(node_name) + ": " +
                  (why != nullptr && why->is_string() ? std::string(why->as_string())
                                                      : std::string("not trusted")) +
                  "\n";
      continue;
    }
    const auto capacity = integer(*node, "epcCapacityBytes");
    const auto requested = integer(*node, "epcRequestedBytes");
    const auto slots_total = slots(*node, "enclaveSlots", "total");
    const auto slots_used = slots(*node, "enclaveSlots", "used");
    const auto pods = integer(*node, "pods");
    if (!capacity || !requested || !slots_total || !slots_used || !pods) {
      return common::Error{"the extender's /state entry of node " + std::string(node_name) +
                           " lacks its EPC, slots or pods"};
    }
    const std::int64_t live = integer(*node, "epcLiveUsedBytes").value_or(0);
    // epc-sim has no headroom: the node offers what the extender lets pods use.
    const std::int64_t usable = std::max<std::int64_t>(*capacity - *headroom, 0);
    const std::int64_t used = std::min(std::max(*requested, live), usable);
    node_lines += "  - {name: " + quoted(node_name) + ", cpu: \"" +
                  cpu_text(options.node_cpu_milli) +
                  "\", memory: " + common::quantity_string(options.node_memory_bytes) +
                  ", epc: " + common::quantity_string(usable) +
                  ", enclave_slots: " + std::to_string(*slots_total) +
                  ", max_pods: " + std::to_string(std::max(kSimDefaultMaxPods, *pods)) +
                  ", epc_used: " + common::quantity_string(used) +
                  ", enclave_slots_used: " + std::to_string(std::min(*slots_used, *slots_total)) +
                  ", pods_used: " + std::to_string(*pods) + "}\n";
    ++kept;
  }
  if (kept == 0) {
    return common::Error{"the extender at " + where +
                         " has no trusted SGX node: nothing to simulate"};
  }

  std::vector<Shape> mix;
  for (const json::value& value : shapes->as_array()) {
    const json::object* shape = value.is_object() ? &value.as_object() : nullptr;
    const auto epc = shape != nullptr ? integer(*shape, "epcBytes") : std::nullopt;
    const auto enclaves = shape != nullptr ? integer(*shape, "enclaveSlots") : std::nullopt;
    const auto provision = shape != nullptr ? integer(*shape, "provisionSlots") : std::nullopt;
    const auto pods = shape != nullptr ? integer(*shape, "pods") : std::nullopt;
    if (!epc || !enclaves || !provision || !pods) {
      return common::Error{"the extender's /state has a pod shape without its EPC, slots or pods"};
    }
    if (*pods > 0 && (*epc > 0 || *enclaves > 0)) {
      mix.push_back({*epc, *enclaves, *provision, *pods});
    }
  }
  const bool standard_mix = mix.empty();
  if (standard_mix) {
    for (const std::int64_t epc : {std::int64_t{64} << 20, std::int64_t{256} << 20,
                                   std::int64_t{1} << 30, std::int64_t{4} << 30}) {
      mix.push_back({epc, 1, 0, 1});
    }
  }

  std::string out;
  out += "# epc-sim input (docs/sim-input.md): the cluster as epc-extender " + where +
         " accounted it at " + std::string(generated_at) + " (epcctl snapshot).\n";
  out +=
      "# EPC, enclave slots and pods already used are the extender's; cpu and memory are\n"
      "# placeholders (--node-cpu/--node-memory/--pod-cpu/--pod-memory). Node EPC is capacity "
      "minus\n"
      "# the extender's headroom (" +
      common::quantity_string(*headroom) +
      "). Ask what-if questions on it, e.g.:\n"
      "#   epc-sim --trace THIS.yaml --arrivals 300\n"
      "# and add nodes by adding a line, e.g. {name: new, count: 10, cpu: \"64\", memory: 512Gi, "
      "epc: 128Gi}.\n";
  if (!left_out.empty()) {
    out += "# Not trusted for scheduling now, so left out:\n" + left_out;
  }
  out += "nodes:\n" + node_lines;
  out += standard_mix ? "# No SGX pods run now: one pod of each standard shape as the mix.\npods:\n"
                      : "# The SGX pods running now, by shape: the mix a what-if run draws from.\n"
                        "pods:\n";
  for (const Shape& shape : mix) {
    std::string name = "sgx-" + common::quantity_string(shape.epc_bytes) + "-" +
                       std::to_string(shape.enclave_slots) + "e";
    if (shape.provision_slots > 0) {
      name += "-" + std::to_string(shape.provision_slots) + "p";
    }
    out += "  - {name: " + name + ", count: " + std::to_string(shape.pods) + ", cpu: \"" +
           cpu_text(options.pod_cpu_milli) +
           "\", memory: " + common::quantity_string(options.pod_memory_bytes) +
           ", epc: " + common::quantity_string(shape.epc_bytes) +
           ", enclave_slots: " + std::to_string(shape.enclave_slots) + "}";
    if (shape.provision_slots > 0) {
      out += "  # also " + std::to_string(shape.provision_slots) +
             " provision slot(s): epc-sim does not model them";
    }
    out += "\n";
  }
  return out;
}

}  // namespace epc::tools::epcctl
