#include "extender/reports/conversion.h"

#include <set>
#include <string>
#include <utility>

#include "extender/core/node_row.h"

namespace epc::reports {

// The core keeps a node's EPC sections in a fixed array of its row: it must hold every section a
// valid report can carry, or the writer would have to cut them.
static_assert(static_cast<std::size_t>(core::kMaxEpcSections) == v1::kMaxEpcSections,
              "core::NodeRow's section array must match the report contract");

namespace {

// Quotes untrusted text for an error message, cut short so a huge field cannot make a huge Ack.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxEcho = 64;
  std::string out = "\"";
  out.append(text.substr(0, kMaxEcho));
  if (text.size() > kMaxEcho) {
    out.append("...");
  }
  out.append("\"");
  return out;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

common::Error error(std::string message) { return common::Error{std::move(message)}; }

// ---- field converters: each returns an error text, empty when fine ----

std::string convert_slots(const epc::v1::SlotUsage& in, std::string_view what,
                          state::SlotCount& out) {
  if (in.total() > v1::kMaxSlots) {
    return std::string(what) + ".total " + std::to_string(in.total()) + " exceeds " +
           std::to_string(v1::kMaxSlots);
  }
  if (in.used() > in.total()) {
    return std::string(what) + ".used " + std::to_string(in.used()) + " exceeds total " +
           std::to_string(in.total());
  }
  out.total = in.total();
  out.used = in.used();
  return {};
}

std::string convert_live(const epc::v1::LiveEpcUse& in, state::LiveEpc& out) {
  if (in.known() && in.used_bytes() > static_cast<std::uint64_t>(v1::kMaxEpcCapacityBytes)) {
    return "live_epc.used_bytes " + std::to_string(in.used_bytes()) + " exceeds 64 TiB";
  }
  out.known = in.known();
  out.used_bytes = in.known() ? static_cast<std::int64_t>(in.used_bytes()) : 0;
  return {};
}

std::string convert_health(const epc::v1::Health& in, state::HealthInfo& out) {
  if (in.reason().size() > v1::kMaxHealthReasonBytes) {
    return "health.reason is longer than " + std::to_string(v1::kMaxHealthReasonBytes) + " bytes";
  }
  out.healthy = in.healthy();
  out.reason = in.reason();
  return {};
}

std::string check_pod_name(std::string_view pod_namespace, std::string_view pod_name) {
  if (!is_dns1123_label(pod_namespace)) {
    return "holder namespace " + quoted(pod_namespace) + " is not a valid DNS-1123 label";
  }
  if (!is_dns1123_subdomain(pod_name, v1::kMaxPodNameLength)) {
    return "holder name " + quoted(pod_name) + " is not a valid DNS-1123 subdomain";
  }
  return {};
}

std::string convert_holder(const epc::v1::SlotHolder& in, core::SlotHolder& out) {
  if (auto bad = check_pod_name(in.pod_namespace(), in.pod_name()); !bad.empty()) {
    return bad;
  }
  const std::string pod = in.pod_namespace() + "/" + in.pod_name();
  if (in.pod_uid().size() > v1::kMaxPodUidLength) {
    return "holder " + quoted(pod) + ": pod_uid is too long";
  }
  if (in.epc_known() && in.epc_bytes() > static_cast<std::uint64_t>(v1::kMaxEpcCapacityBytes)) {
    return "holder " + quoted(pod) + ": epc_bytes " + std::to_string(in.epc_bytes()) +
           " exceeds 64 TiB";
  }
  if (in.enclave_slots() > v1::kMaxSlots || in.provision_slots() > v1::kMaxSlots) {
    return "holder " + quoted(pod) + ": slot count exceeds " + std::to_string(v1::kMaxSlots);
  }
  out.pod.namespace_name = pod;
  out.pod.uid = in.pod_uid();
  if (in.epc_known()) {
    out.epc_bytes = static_cast<std::int64_t>(in.epc_bytes());
  } else {
    out.epc_bytes.reset();
  }
  out.enclave_slots = in.enclave_slots();
  out.provision_slots = in.provision_slots();
  return {};
}

// Converts a list of holders, refusing more than v1::kMaxHolders and duplicates of one pod.
template <typename Repeated>
std::string convert_holders(const Repeated& in, std::string_view what,
                            std::vector<core::SlotHolder>& out) {
  if (static_cast<std::size_t>(in.size()) > v1::kMaxHolders) {
    return std::string(what) + " lists " + std::to_string(in.size()) + " pods, more than " +
           std::to_string(v1::kMaxHolders);
  }
  out.resize(static_cast<std::size_t>(in.size()));
  std::set<std::string_view> seen;
  for (int i = 0; i < in.size(); ++i) {
    auto& holder = out[static_cast<std::size_t>(i)];
    if (auto bad = convert_holder(in.Get(i), holder); !bad.empty()) {
      return std::string(what) + ": " + bad;
    }
    if (!seen.insert(holder.pod.namespace_name).second) {
      return std::string(what) + " lists pod " + quoted(holder.pod.namespace_name) + " twice";
    }
  }
  return {};
}

common::Result<state::NodeState> convert_state(const epc::v1::NodeState& in) {
  state::NodeState out;
  out.sgx_present = in.sgx_present();
  if (in.epc_capacity_bytes() > static_cast<std::uint64_t>(v1::kMaxEpcCapacityBytes)) {
    return error("epc_capacity_bytes " + std::to_string(in.epc_capacity_bytes()) +
                 " exceeds 64 TiB");
  }
  out.epc_capacity_bytes = static_cast<std::int64_t>(in.epc_capacity_bytes());

  if (static_cast<std::size_t>(in.epc_sections_size()) > v1::kMaxEpcSections) {
    return error("epc_sections lists " + std::to_string(in.epc_sections_size()) +
                 " sections, more than " + std::to_string(v1::kMaxEpcSections));
  }
  std::int64_t section_sum = 0;  // at most 64 × 64 TiB: no overflow
  for (const auto& section : in.epc_sections()) {
    if (section.numa_node() < 0) {
      return error("epc_sections: negative numa_node " + std::to_string(section.numa_node()));
    }
    if (section.size_bytes() > static_cast<std::uint64_t>(v1::kMaxEpcCapacityBytes)) {
      return error("epc_sections: size_bytes " + std::to_string(section.size_bytes()) +
                   " exceeds 64 TiB");
    }
    const auto size = static_cast<std::int64_t>(section.size_bytes());
    section_sum += size;
    out.epc_sections.push_back({section.numa_node(), size});
  }
  if (!out.epc_sections.empty() && section_sum != out.epc_capacity_bytes) {
    return error("epc_sections sum to " + std::to_string(section_sum) +
                 " bytes but epc_capacity_bytes is " + std::to_string(out.epc_capacity_bytes));
  }

  if (auto bad = convert_slots(in.enclave_slots(), "enclave_slots", out.enclave_slots);
      !bad.empty()) {
    return error(std::move(bad));
  }
  if (auto bad = convert_slots(in.provision_slots(), "provision_slots", out.provision_slots);
      !bad.empty()) {
    return error(std::move(bad));
  }
  if (auto bad = convert_live(in.live_epc(), out.live_epc); !bad.empty()) {
    return error(std::move(bad));
  }
  if (out.live_epc.known && out.live_epc.used_bytes > out.epc_capacity_bytes) {
    return error("live_epc.used_bytes " + std::to_string(out.live_epc.used_bytes) +
                 " exceeds epc_capacity_bytes " + std::to_string(out.epc_capacity_bytes));
  }
  if (auto bad = convert_holders(in.holders(), "holders", out.holders); !bad.empty()) {
    return error(std::move(bad));
  }
  // An absent Health message means the plugin has nothing to complain about (the report itself
  // shows it is alive); proto3 would otherwise read it as healthy = false.
  if (in.has_health()) {
    if (auto bad = convert_health(in.health(), out.health); !bad.empty()) {
      return error(std::move(bad));
    }
  }
  return out;
}

common::Result<state::NodeChange> convert_change(const epc::v1::NodeChange& in) {
  state::NodeChange out;
  if (in.has_enclave_slots()) {
    state::SlotCount slots;
    if (auto bad = convert_slots(in.enclave_slots(), "enclave_slots", slots); !bad.empty()) {
      return error(std::move(bad));
    }
    out.enclave_slots = slots;
  }
  if (in.has_provision_slots()) {
    state::SlotCount slots;
    if (auto bad = convert_slots(in.provision_slots(), "provision_slots", slots); !bad.empty()) {
      return error(std::move(bad));
    }
    out.provision_slots = slots;
  }
  if (in.has_live_epc()) {
    state::LiveEpc live;
    if (auto bad = convert_live(in.live_epc(), live); !bad.empty()) {
      return error(std::move(bad));
    }
    out.live_epc = live;
  }
  if (in.has_health()) {
    state::HealthInfo health;
    if (auto bad = convert_health(in.health(), health); !bad.empty()) {
      return error(std::move(bad));
    }
    out.health = std::move(health);
  }
  if (auto bad = convert_holders(in.holders_upserted(), "holders_upserted", out.holders_upserted);
      !bad.empty()) {
    return error(std::move(bad));
  }
  if (static_cast<std::size_t>(in.holders_removed_size()) > v1::kMaxHolders) {
    return error("holders_removed lists " + std::to_string(in.holders_removed_size()) +
                 " pods, more than " + std::to_string(v1::kMaxHolders));
  }
  for (const auto& removed : in.holders_removed()) {
    const auto slash = removed.find('/');
    if (slash == std::string::npos) {
      return error("holders_removed: " + quoted(removed) + " is not \"namespace/name\"");
    }
    const std::string_view whole(removed);
    if (auto bad = check_pod_name(whole.substr(0, slash), whole.substr(slash + 1)); !bad.empty()) {
      return error("holders_removed: " + bad);
    }
    out.holders_removed.push_back(removed);
  }
  return out;
}

}  // namespace

bool is_dns1123_subdomain(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length) {
    return false;
  }
  // Every dot-separated label starts and ends with an alphanumeric.
  char previous = '.';
  for (char c : name) {
    if (c == '.') {
      if (!is_lower_alnum(previous)) {
        return false;
      }
    } else if (c == '-') {
      if (previous == '.') {
        return false;
      }
    } else if (!is_lower_alnum(c)) {
      return false;
    }
    previous = c;
  }
  return is_lower_alnum(previous);
}

bool is_dns1123_label(std::string_view name) {
  return name.find('.') == std::string_view::npos &&
         is_dns1123_subdomain(name, v1::kMaxNamespaceLength);
}

common::Result<state::ReportMessage> from_proto(const epc::v1::NodeReport& report) {
  if (!is_dns1123_subdomain(report.node_name())) {
    return error("node_name " + quoted(report.node_name()) +
                 " is not a valid DNS-1123 subdomain (lower-case, at most 253 characters)");
  }
  if (report.instance_id().empty()) {
    return error("instance_id is empty");
  }
  if (report.instance_id().size() > v1::kMaxInstanceIdLength) {
    return error("instance_id is longer than " + std::to_string(v1::kMaxInstanceIdLength) +
                 " bytes");
  }
  if (report.plugin_version().size() > v1::kMaxPluginVersionLength) {
    return error("plugin_version is longer than " + std::to_string(v1::kMaxPluginVersionLength) +
                 " bytes");
  }

  state::ReportMessage out;
  switch (report.kind_case()) {
    case epc::v1::NodeReport::kSnapshot: {
      auto full = convert_state(report.snapshot());
      if (!full.ok()) {
        return error("snapshot: " + full.error().message);
      }
      out.body = std::move(full).value();
      break;
    }
    case epc::v1::NodeReport::kChange: {
      auto change = convert_change(report.change());
      if (!change.ok()) {
        return error("change: " + change.error().message);
      }
      out.body = std::move(change).value();
      break;
    }
    case epc::v1::NodeReport::kHeartbeat:
      out.body = state::Heartbeat{};
      break;
    case epc::v1::NodeReport::KIND_NOT_SET:
      return error("message has no snapshot, change or heartbeat");
  }
  out.node_name = report.node_name();
  out.instance_id = report.instance_id();
  out.sequence = report.sequence();
  out.plugin_version = report.plugin_version();
  return out;
}

epc::v1::Ack make_ack(const common::Result<std::uint64_t>& result, std::uint64_t last_applied) {
  epc::v1::Ack ack;
  if (result.ok()) {
    ack.set_applied_sequence(*result);
  } else {
    ack.set_applied_sequence(last_applied);
    ack.set_error(result.error().message);
  }
  return ack;
}

}  // namespace epc::reports
