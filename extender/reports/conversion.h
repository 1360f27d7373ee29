#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "epc/v1/node_reports.pb.h"
#include "extender/core/result.h"
#include "extender/state/cluster_state.h"

namespace epc::reports {

// Limits on what a node may report. Anything beyond them is not a real SGX machine but a bug or an
// attack; such a message is refused with an error Ack and the state is left untouched.
inline constexpr std::int64_t kMaxEpcCapacityBytes = std::int64_t{64} << 40;  // 64 TiB
inline constexpr std::int64_t kMaxSlots = 100000;       // per slot kind and per holder
inline constexpr std::size_t kMaxHolders = 10000;       // pods listed in one message
inline constexpr std::size_t kMaxEpcSections = 64;      // NUMA nodes of one machine
inline constexpr std::size_t kMaxNodeNameLength = 253;  // DNS-1123 subdomain
inline constexpr std::size_t kMaxPodNameLength = 253;   // DNS-1123 subdomain
inline constexpr std::size_t kMaxNamespaceLength = 63;  // DNS-1123 label
inline constexpr std::size_t kMaxInstanceIdLength = 128;
inline constexpr std::size_t kMaxPluginVersionLength = 128;
inline constexpr std::size_t kMaxHealthReasonLength = 1024;

// Kubernetes' IsDNS1123Subdomain: lower-case alphanumerics, '-' and '.', starting and ending with
// an alphanumeric, each dot-separated label non-empty, at most `max_length` characters.
bool is_dns1123_subdomain(std::string_view name, std::size_t max_length = kMaxNodeNameLength);
// IsDNS1123Label: like a subdomain without dots, at most 63 characters.
bool is_dns1123_label(std::string_view name);

// Converts and validates one NodeReport. Errors say which field is wrong and why; no partial
// message is ever returned.
core::Result<state::ReportMessage> from_proto(const epc::v1::NodeReport& report);

// The Ack for a message: the applied sequence, or the error with the last sequence known good.
epc::v1::Ack make_ack(const core::Result<std::uint64_t>& result, std::uint64_t last_applied);

}  // namespace epc::reports
