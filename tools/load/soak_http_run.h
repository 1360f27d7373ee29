#pragma once

#include <iosfwd>

#include "common/result.h"
#include "tools/load/load_options.h"

namespace epc::tools::load {

// `epc-load soak-http`: a real epc-extender on loopback (LoopbackExtender) with options.nodes
// nodes registered on one report stream and kept fresh by heartbeats at options.heartbeat_rate
// (a thread of this process, as the plugins' 10 s heartbeats would), and paced
// filter+prioritize cycles over every node name (run_paced_cycles) at options.request_rate on
// options.connections for options.duration_ms, the extender's RSS sampled throughout
// (MemoryWatch on its PID).
//
// Prints the registration, the cycles' summary, the feed and the RSS line to `out`, progress and
// the RSS samples to `log`. Returns false when the run went through with any error (a cycle
// error, a refused report), an error value when it could not run at all.
common::Result<bool> run_soak_http(const LoadOptions& options, std::ostream& out,
                                   std::ostream& log);

}  // namespace epc::tools::load
