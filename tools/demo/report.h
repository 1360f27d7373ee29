#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "tools/demo/fleet.h"
#include "tools/demo/metrics_scrape.h"
#include "tools/demo/scheduler_player.h"

namespace epc::tools::demo {

// The demo's output for a person: fixed-width tables, one section each. The lines also carry what
// tests/integration/demo checks ("Summary: pods N, placed P, rejected R", the used % per node, the
// metrics URL), so their shape is part of that test's contract.

void print_fleet(std::ostream& out, const std::vector<NodeView>& nodes);
void print_placements(std::ostream& out, const std::vector<Decision>& decisions);
void print_rejections(std::ostream& out, const std::vector<Decision>& decisions);
void print_utilization(std::ostream& out, const std::vector<NodeView>& nodes);
void print_summary(std::ostream& out, const std::vector<Decision>& decisions,
                   const std::vector<NodeView>& nodes, const FleetStats& fleet_stats,
                   std::chrono::milliseconds elapsed);

// The extender's metrics URL and a few lines from it: free EPC of three nodes next to the fleet's
// own figure (so disagreement is visible), and the request counters.
void print_metrics(std::ostream& out, const std::string& metrics_url,
                   const std::vector<MetricSample>& samples, const std::vector<NodeView>& nodes);

// The extender's metric names (docs/metrics.md): the per-node free-EPC gauge (label "node"), the
// cluster totals and the counters the demo shows.
inline constexpr const char* kFreeEpcMetric = "epc_node_free_bytes";
inline constexpr const char* kClusterFreeMetric = "epc_cluster_free_bytes";
inline constexpr const char* kClusterCapacityMetric = "epc_cluster_capacity_bytes";
inline constexpr const char* kRequestsMetric = "epc_extender_requests_total";
inline constexpr const char* kReportMessagesMetric = "epc_extender_report_messages_total";

}  // namespace epc::tools::demo
