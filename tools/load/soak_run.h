#pragma once

#include <iosfwd>

#include "common/result.h"
#include "tools/load/load_options.h"

namespace epc::tools::load {

// `epc-load soak`: the extender as it runs in a cluster, for a long time, with everything moving.
//
// - The API server stand-in (tools/standins, in this process, HTTPS on loopback) holds
//   options.nodes SGX nodes; a real epc-extender (LoopbackExtender) lists and watches it
//   (binding mode: bind POSTs Bindings to it).
// - The same nodes report on options.soak_feeders NodeReports streams (ReportFeeder), each
//   heartbeating its share at the plugin's 10 s period; every options.restart_every_ms one of them
//   (in turn) is closed and replaced by a new one with a new instance id, as a plugin restart.
// - Pods arrive in the stand-in at options.pod_rate per second (16..128Mi each) and go through
//   filter (over a rotating tenth of the nodes, kube-scheduler's feasible sample), prioritize and
//   bind; each is deleted options.pod_lifetime_ms after it was bound.
// - Paced filter+prioritize cycles at options.request_rate over a fixed spread of
//   options.soak_names nodes measure the filter latency: first for options.quiet_ms with nothing
//   but heartbeats (the quiet run), then for options.duration_ms with all of the above.
//
// Afterwards it checks what must hold: no Binding that would overcommit a node (the stand-in's
// binding observer sums each node's bound EPC), every report acknowledged without refusal, the
// extender's per-node EPC equal to the API's bound pods plus what the plugins reported once the
// churn stopped, and it prints the filter p99 of both runs, their ratio and the extender's RSS.
// Returns false when a check failed, an error value when the run could not go on.
common::Result<bool> run_soak(const LoadOptions& options, std::ostream& out, std::ostream& log);

}  // namespace epc::tools::load
