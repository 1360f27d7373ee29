#include "tools/demo/report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/byte_format.h"
#include "tools/demo/percent_format.h"

namespace epc::tools::demo {

namespace {

// ---------------------------------------------------------------------------------------------
// A fixed-width table: columns sized to their widest cell, numbers right-aligned.

class Table {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string title;
    Align align;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  void print(std::ostream& out) const {
    std::vector<std::size_t> widths;
    for (const Column& c : columns_) {
      widths.push_back(c.title.size());
    }
    for (const auto& row : rows_) {
      for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
        widths[i] = std::max(widths[i], row[i].size());
      }
    }
    std::vector<std::string> titles;
    for (const Column& c : columns_) {
      titles.push_back(c.title);
    }
    print_row(out, titles, widths);
    for (const auto& row : rows_) {
      print_row(out, row, widths);
    }
  }

 private:
  void print_row(std::ostream& out, const std::vector<std::string>& cells,
                 const std::vector<std::size_t>& widths) const {
    std::string line = " ";
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      const std::string pad(widths[i] - cells[i].size(), ' ');
      line += ' ';
      line += columns_[i].align == Align::kRight ? pad + cells[i] : cells[i] + pad;
      line += ' ';
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out << line << '\n';
  }

  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

using Align = Table::Align;

void heading(std::ostream& out, const std::string& title) { out << '\n' << title << '\n'; }

std::string bar(std::int64_t part, std::int64_t whole) {
  constexpr int kWidth = 20;
  const std::int64_t filled =
      whole <= 0 ? 0 : std::min<std::int64_t>(kWidth, (part * kWidth + whole / 2) / whole);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
}

std::string pod_demand(const DemoPod& pod) {
  std::string text = common::quantity_string(pod.epc_bytes()) + " EPC, " +
                     std::to_string(pod.enclave_slots()) + " enclave";
  if (pod.provision_slots() > 0) {
    text += ", " + std::to_string(pod.provision_slots()) + " provision";
  }
  if (!pod.init_containers.empty()) {
    text += ", with sidecar";
  }
  return text;
}

std::string micros_as_ms(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f ms", static_cast<double>(micros) / 1000.0);
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void print_fleet(std::ostream& out, const std::vector<NodeView>& nodes) {
  heading(out, "Fleet (each node streams NodeReports over its own gRPC connection)");
  Table table({{"node", Align::kLeft},
               {"SGX", Align::kLeft},
               {"EPC", Align::kRight},
               {"sections", Align::kRight},
               {"live EPC use", Align::kLeft},
               {"enclave", Align::kRight},
               {"provision", Align::kRight}});
  for (const NodeView& n : nodes) {
    if (!n.spec.sgx_present) {
      table.add({n.spec.name, "no", "-", "-", "-", "-", "-"});
      continue;
    }
    table.add({n.spec.name, "yes", common::format_bytes(n.spec.epc_capacity_bytes),
               std::to_string(n.spec.epc_sections),
               n.spec.live_epc_known
                   ? "known (" + common::format_bytes(n.spec.host_epc_bytes) + " host)"
                   : "unknown",
               std::to_string(n.spec.enclave_slots), std::to_string(n.spec.provision_slots)});
  }
  table.print(out);
}

void print_placements(std::ostream& out, const std::vector<Decision>& decisions) {
  heading(out, "Placements (filter -> prioritize -> NodeChange acknowledged)");
  Table table({{"#", Align::kRight},
               {"pod", Align::kLeft},
               {"EPC", Align::kRight},
               {"encl", Align::kRight},
               {"prov", Align::kRight},
               {"feasible", Align::kRight},
               {"node", Align::kLeft},
               {"score", Align::kRight},
               {"runner-up", Align::kLeft},
               {"note", Align::kLeft}});
  int index = 0;
  for (const Decision& d : decisions) {
    ++index;
    const std::string feasible = std::to_string(d.feasible_nodes);
    table.add(
        {std::to_string(index), d.pod.key(), common::quantity_string(d.pod.epc_bytes()),
         std::to_string(d.pod.enclave_slots()), std::to_string(d.pod.provision_slots()), feasible,
         d.placed ? d.node : "(rejected)",
         d.placed ? (d.score ? std::to_string(*d.score) : "only") : "-",
         d.runner_up.empty() ? "-" : d.runner_up + " (" + std::to_string(d.runner_up_score) + ")",
         d.pod.init_containers.empty() ? "" : "attestation sidecar"});
  }
  table.print(out);
}

void print_rejections(std::ostream& out, const std::vector<Decision>& decisions) {
  const auto rejected = std::count_if(decisions.begin(), decisions.end(),
                                      [](const Decision& d) { return !d.placed; });
  heading(out, "Rejected pods (" + std::to_string(rejected) + ")");
  if (rejected == 0) {
    out << "  none\n";
    return;
  }
  for (const Decision& d : decisions) {
    if (d.placed) {
      continue;
    }
    out << "  " << d.pod.key() << " (" << pod_demand(d.pod) << ")\n";
    out << "    " << (d.extender_error ? "ERROR " : "") << d.message << '\n';
  }
}

void print_utilization(std::ostream& out, const std::vector<NodeView>& nodes) {
  heading(out, "EPC per node (the fleet's own accounting)");
  Table table({{"node", Align::kLeft},
               {"capacity", Align::kRight},
               {"requested", Align::kRight},
               {"live", Align::kRight},
               {"free", Align::kRight},
               {"used", Align::kRight},
               {"", Align::kLeft},
               {"pods", Align::kRight},
               {"enclave", Align::kRight}});
  for (const NodeView& n : nodes) {
    if (!n.spec.sgx_present) {
      table.add({n.spec.name, "no SGX", "-", "-", "-", "-", "", "0", "-"});
      continue;
    }
    table.add({n.spec.name, common::format_bytes(n.spec.epc_capacity_bytes),
               common::format_bytes(n.epc_requested_bytes),
               n.spec.live_epc_known ? common::format_bytes(n.epc_live_used_bytes()) : "-",
               common::format_bytes(n.epc_free_bytes()),
               format_percent(n.epc_in_use_bytes(), n.spec.epc_capacity_bytes),
               bar(n.epc_in_use_bytes(), n.spec.epc_capacity_bytes), std::to_string(n.pods.size()),
               std::to_string(n.enclave_slots_used) + "/" + std::to_string(n.spec.enclave_slots)});
  }
  table.print(out);
}

void print_summary(std::ostream& out, const std::vector<Decision>& decisions,
                   const std::vector<NodeView>& nodes, const FleetStats& fleet_stats,
                   std::chrono::milliseconds elapsed) {
  std::int64_t placed = 0;
  std::int64_t errors = 0;
  std::int64_t filter_us = 0;
  std::int64_t prioritize_us = 0;
  std::int64_t prioritize_calls = 0;
  std::int64_t report_us = 0;
  for (const Decision& d : decisions) {
    placed += d.placed ? 1 : 0;
    errors += d.extender_error ? 1 : 0;
    filter_us += d.filter_time.count();
    if (d.prioritize_time.count() > 0) {
      prioritize_us += d.prioritize_time.count();
      ++prioritize_calls;
    }
    report_us += d.report_time.count();
  }
  std::int64_t capacity = 0;
  std::int64_t in_use = 0;
  for (const NodeView& n : nodes) {
    capacity += n.spec.epc_capacity_bytes;
    in_use += n.epc_in_use_bytes();
  }
  const auto total = static_cast<std::int64_t>(decisions.size());
  heading(out, "Summary: pods " + std::to_string(total) + ", placed " + std::to_string(placed) +
                   ", rejected " + std::to_string(total - placed) + "; cluster EPC in use " +
                   common::format_bytes(in_use) + " of " + common::format_bytes(capacity) + " (" +
                   format_percent(in_use, capacity) + ")");
  const auto avg = [](std::int64_t sum, std::int64_t n) { return n == 0 ? 0 : sum / n; };
  out << "  round trips (mean): filter " << micros_as_ms(avg(filter_us, total)) << ", prioritize "
      << micros_as_ms(avg(prioritize_us, prioritize_calls)) << " (" << prioritize_calls
      << " calls), "
      << (fleet_stats.real_plugins ? "Allocate -> extender ledger " : "NodeChange -> Ack ")
      << micros_as_ms(avg(report_us, placed)) << '\n';
  if (fleet_stats.real_plugins) {
    out << "  scheduling took " << elapsed.count() << " ms; " << fleet_stats.snapshots_sent
        << " epc-device-plugin processes reported, " << fleet_stats.changes_sent
        << " Allocate calls made by the kubelet stand-ins\n";
  } else {
    out << "  scheduling took " << elapsed.count() << " ms; report streams sent "
        << fleet_stats.snapshots_sent << " snapshots, " << fleet_stats.changes_sent << " changes, "
        << fleet_stats.heartbeats_sent << " heartbeats (1 per node per second) and got "
        << fleet_stats.acks_received << " acks\n";
  }
  if (errors > 0) {
    out << "  extender errors: " << errors << '\n';
  }
}

void print_metrics(std::ostream& out, const std::string& metrics_url,
                   const std::vector<MetricSample>& samples, const std::vector<NodeView>& nodes) {
  heading(out, "Extender metrics: " + metrics_url);
  if (samples.empty()) {
    out << "  (no samples scraped)\n";
    return;
  }
  // Three telling nodes: the biggest, the busiest small one, and one whose live use is known.
  std::vector<const NodeView*> picks;
  auto pick = [&](const NodeView* n) {
    if (n != nullptr && std::find(picks.begin(), picks.end(), n) == picks.end()) {
      picks.push_back(n);
    }
  };
  const NodeView* biggest = nullptr;
  const NodeView* busiest_small = nullptr;
  const NodeView* live = nullptr;
  for (const NodeView& n : nodes) {
    if (!n.spec.sgx_present) {
      continue;
    }
    if (biggest == nullptr || n.spec.epc_capacity_bytes > biggest->spec.epc_capacity_bytes) {
      biggest = &n;
    }
    if (n.spec.epc_capacity_bytes < common::kGiB &&
        (busiest_small == nullptr || n.pods.size() > busiest_small->pods.size())) {
      busiest_small = &n;
    }
    if (n.spec.live_epc_known && live == nullptr) {
      live = &n;
    }
  }
  pick(biggest);
  pick(busiest_small);
  pick(live);
  for (const NodeView* n : picks) {
    const auto sample = find_sample(samples, kFreeEpcMetric, {{"node", n->spec.name}});
    const std::string fleet_free = std::to_string(n->epc_free_bytes());
    if (!sample) {
      out << "  " << kFreeEpcMetric << "{node=\"" << n->spec.name
          << "\"} missing; fleet view: free " << fleet_free << " bytes\n";
      continue;
    }
    const bool agrees = static_cast<std::int64_t>(sample->value) == n->epc_free_bytes();
    out << "  " << sample->line << "   fleet view: free " << fleet_free << " bytes ("
        << common::format_bytes(n->epc_free_bytes()) << ") " << (agrees ? "agrees" : "DISAGREES")
        << '\n';
  }
  // Cluster totals and the non-zero request and report counters: what the run did to the extender.
  for (const MetricSample& s : samples) {
    const bool cluster = s.name == kClusterFreeMetric || s.name == kClusterCapacityMetric;
    const bool counter = s.name == kRequestsMetric || s.name == kReportMessagesMetric;
    if (cluster || (counter && s.value > 0)) {
      out << "  " << s.line << '\n';
    }
  }
}

}  // namespace epc::tools::demo
