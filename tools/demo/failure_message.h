#pragma once

#include <map>
#include <string>

namespace epc::tools::demo {

// Per-node reasons from an extender's filter reply, node name -> reason.
using NodeReasons = std::map<std::string, std::string>;

// The message of the FailedScheduling event kube-scheduler records for a pod no node accepted:
//   "0/12 nodes are available: 1 node has no SGX, 11 SGX EPC capacity too small for pod."
// As FitError.Error() builds it: one "<count> <reason>" per distinct reason, the strings sorted
// (lexically, so "11 ..." sorts before "3 ..."), joined by ", ". A node listed in both maps counts
// once, with its unresolvable reason (kube-scheduler lets that map win).
std::string failed_scheduling_message(int total_nodes, const NodeReasons& failed,
                                      const NodeReasons& failed_unresolvable);

}  // namespace epc::tools::demo
