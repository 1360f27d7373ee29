#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "epc/v1/node_reports.pb.h"
#include "extender/state/cluster_state.h"
#include "proto/epc/v1/report_limits.h"

namespace epc::reports {

// Kubernetes' IsDNS1123Subdomain: lower-case alphanumerics, '-' and '.', starting and ending with
// an alphanumeric, each dot-separated label non-empty, at most `max_length` characters.
bool is_dns1123_subdomain(std::string_view name, std::size_t max_length = v1::kMaxNodeNameLength);
// IsDNS1123Label: like a subdomain without dots, at most 63 characters.
bool is_dns1123_label(std::string_view name);

// Converts and validates one NodeReport against the contract's limits (proto/epc/v1/
// report_limits.h). Errors say which field is wrong and why; no partial message is ever returned.
common::Result<state::ReportMessage> from_proto(const epc::v1::NodeReport& report);

// The Ack for a message: the applied sequence, or the error with the last sequence known good.
epc::v1::Ack make_ack(const common::Result<std::uint64_t>& result, std::uint64_t last_applied);

}  // namespace epc::reports
