#pragma once

#include "deviceplugin/report/node_state.h"
#include "epc/v1/node_reports.pb.h"
#include "proto/epc/v1/report_limits.h"

namespace epc::deviceplugin::report {

// NodeState -> epc.v1.NodeState, always inside the contract's limits (proto/epc/v1/report_limits.h,
// which the extender enforces by refusing the whole message): EPC sections are sent only when every
// section has a known NUMA node and there are at most v1::kMaxEpcSections (otherwise capacity
// alone: the extender refuses negative NUMA ids); live use above capacity is sent as unknown; used
// slots are clamped to the totals; the plugin's own health reason is shortened to
// v1::kMaxHealthReasonBytes.
void to_proto(const NodeState& snapshot, epc::v1::NodeState& out);

}  // namespace epc::deviceplugin::report
