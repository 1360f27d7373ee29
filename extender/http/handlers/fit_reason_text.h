#pragma once

#include <string_view>

#include "extender/core/fit.h"

namespace epc::http::handlers {

// The sentence kube-scheduler shows for a node that failed our filter (FailedNodes /
// FailedAndUnresolvableNodes values). Fixed per reason and free of numbers on purpose: the
// scheduler aggregates FailedScheduling events by identical text ("0/40 nodes are available:
// 12 insufficient free SGX EPC, ..."), so per-node figures would turn the event into a long list.
// This is the only place where fit reasons become text (house rule 6).
std::string_view fit_reason_text(core::FitReason reason);

}  // namespace epc::http::handlers
