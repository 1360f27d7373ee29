#pragma once

#include "deviceplugin/report/node_state.h"
#include "epc/v1/node_reports.pb.h"

namespace epc::deviceplugin::report {

// What to send after `before` (the state the extender last applied on this stream) to bring it to
// `after`.
struct ChangeDiff {
  // False when the difference is outside what a NodeChange can say (SGX presence, capacity or EPC
  // sections changed): send a full snapshot instead.
  bool expressible = true;
  // True when nothing the extender sees differs (after the same clamping to_proto applies).
  bool empty = true;
};

// Fills `out` with the NodeChange from `before` to `after`: the slot counts, live use and health
// only when they differ, holders that appeared or changed (by namespace/name) as upserts, holders
// gone as "namespace/name" removals. Both sides are compared in their to_proto form, so the
// extender merging the change into its copy of `before` has exactly `after`.
ChangeDiff diff_node_states(const NodeState& before, const NodeState& after,
                            epc::v1::NodeChange& out);

}  // namespace epc::deviceplugin::report
