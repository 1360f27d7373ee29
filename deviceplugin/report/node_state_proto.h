#pragma once

#include "deviceplugin/report/node_snapshot.h"
#include "epc/v1/node_reports.pb.h"

namespace epc::deviceplugin::report {

// Limits the extender enforces on a NodeState (extender/reports/conversion.cc); a snapshot outside
// them is sent in a form it accepts rather than refused as a whole.
inline constexpr std::size_t kMaxReportedSections = 8;
inline constexpr std::size_t kMaxHealthReasonChars = 256;

// NodeSnapshot -> epc.v1.NodeState. EPC sections are sent only when every section has a known NUMA
// node and there are at most kMaxReportedSections (otherwise capacity alone: the extender refuses
// negative NUMA ids); live use above capacity is sent as unknown; used slots are clamped to the
// totals; the health reason is cut to kMaxHealthReasonChars.
void to_proto(const NodeSnapshot& snapshot, epc::v1::NodeState& out);

}  // namespace epc::deviceplugin::report
