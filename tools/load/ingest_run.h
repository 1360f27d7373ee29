#pragma once

#include <iosfwd>

#include "common/result.h"
#include "tools/load/load_options.h"

namespace epc::tools::load {

// `epc-load ingest`: starts a real epc-extender (options.extender_binary) on loopback ports chosen
// by the extender (port 0, read back from its startup lines) with a temporary YAML config,
// registers options.nodes nodes through one ReportFeeder stream, and measures in one run:
//
//   quiet      filter+prioritize cycles over every name for options.phase_ms, no reports;
//   loaded     the same while heartbeats arrive at each of options.loaded_rates (the feeder on a
//              second thread of this process);
//   max-rate   reports as fast as the Acks allow for options.max_rate_ms, no cycles, with the
//              extender's CPU seconds over the phase -> messages per second per core.
//
// Each phase also gives the extender's CPU use (cores, from /proc/PID/stat). The extender is
// SIGTERMed by its PID and reaped at the end, also on errors. Progress goes to `log`, the table
// to `out`.
common::Result<bool> run_ingest(const LoadOptions& options, std::ostream& out, std::ostream& log);

}  // namespace epc::tools::load
