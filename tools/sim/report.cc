#include "tools/sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace epc::tools::sim {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string number(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

double gib(std::int64_t bytes) { return static_cast<double>(bytes) / kGiB; }

double median(std::vector<double> values) {
  if (values.empty()) {
    return 0.0;
  }
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

// "median (min–max)": the spread over seeds shows how much of a difference is noise.
std::string median_range(const std::vector<double>& values, int decimals, std::string_view unit) {
  if (values.empty()) {
    return "n/a";
  }
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  return number(median(values), decimals) + std::string(unit) + " (" + number(*low, decimals) +
         "–" + number(*high, decimals) + ")";
}

// Runs grouped by strategy, strategies in the order they first appear.
template <typename Run>
std::vector<std::pair<std::string, std::vector<const Run*>>> by_strategy(
    const std::vector<Run>& runs) {
  std::vector<std::pair<std::string, std::vector<const Run*>>> groups;
  for (const Run& run : runs) {
    auto found = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& group) { return group.first == run.strategy; });
    if (found == groups.end()) {
      groups.push_back({run.strategy, {}});
      found = groups.end() - 1;
    }
    found->second.push_back(&run);
  }
  return groups;
}

double rejected_epc_fraction(const ChurnResult& r) {
  return r.counted_epc_bytes > 0
             ? static_cast<double>(r.rejected_epc_bytes) / static_cast<double>(r.counted_epc_bytes)
             : 0.0;
}

// The placed fraction of a fill curve at `arrived` (the last point at or before it).
double placed_at(const std::vector<CurvePoint>& curve, double arrived) {
  double placed = 0.0;
  for (const CurvePoint& point : curve) {
    if (point.arrived > arrived + 1e-12) {
      break;
    }
    placed = point.placed;
  }
  return placed;
}

}  // namespace

void write_fill_csv(std::ostream& out, const StudyResults& results) {
  out << "strategy,seed,arrived_pods,placed_pods,rejected_pods,unallocated_at_full,"
         "first_fitting_rejection,within_capacity,rejected_epc_gib,used_at_start_epc_gib,"
         "free_at_end_epc_gib\n";
  for (const FillRun& run : results.fill) {
    const FillResult& r = run.result;
    out << run.strategy << ',' << run.seed << ',' << r.arrived_pods << ',' << r.placed_pods << ','
        << r.rejected_pods << ',' << number(r.unallocated_at_full, 6) << ','
        << number(r.first_fitting_rejection, 6) << ',' << (r.stayed_within_capacity ? 1 : 0) << ','
        << number(gib(r.rejected_epc_bytes), 3) << ',' << number(gib(r.used_at_start_epc_bytes), 3)
        << ',' << number(gib(r.free_at_end_epc_bytes()), 3) << '\n';
  }
  // The bound's rows: only arrived pods, the bound itself and the EPC held at the start are its
  // own; a fractional LP has no placed or rejected pods (-1, n/a), and honours every capacity.
  for (const BoundRun& run : results.bounds) {
    const PackingBound& b = run.bound;
    out << kPackingBoundName << ',' << run.seed << ',' << b.arrived_pods << ",-1,-1,"
        << number(b.unallocated_at_full, 6) << ",-1,1,-1,"
        << number(gib(b.used_at_start_epc_bytes), 3) << ",-1\n";
  }
}

void write_fill_curves_csv(std::ostream& out, const StudyResults& results) {
  out << "strategy,seed,arrived,placed\n";
  for (const FillRun& run : results.fill) {
    for (const CurvePoint& point : run.result.curve) {
      out << run.strategy << ',' << run.seed << ',' << number(point.arrived, 5) << ','
          << number(point.placed, 5) << '\n';
    }
  }
}

void write_churn_csv(std::ostream& out, const StudyResults& results) {
  out << "strategy,seed,counted_arrivals,rejected_pods,rejected_epc_fraction,mean_placed,"
         "median_largest_placeable_gib,within_capacity\n";
  for (const ChurnRun& run : results.churn) {
    const ChurnResult& r = run.result;
    out << run.strategy << ',' << run.seed << ',' << r.counted_arrivals << ',' << r.rejected_pods
        << ',' << number(rejected_epc_fraction(r), 6) << ',' << number(r.mean_placed, 6) << ','
        << number(static_cast<double>(r.median_largest_placeable_epc) / kGiB, 3) << ','
        << (r.stayed_within_capacity ? 1 : 0) << '\n';
  }
}

void write_churn_samples_csv(std::ostream& out, const StudyResults& results) {
  out << "strategy,seed,arrivals,rejected_pods,placed,largest_placeable_gib\n";
  for (const ChurnRun& run : results.churn) {
    for (const ChurnSample& s : run.result.samples) {
      out << run.strategy << ',' << run.seed << ',' << s.arrivals << ',' << s.rejected_pods << ','
          << number(s.placed, 5) << ','
          << number(static_cast<double>(s.largest_placeable_epc) / kGiB, 3) << '\n';
    }
  }
}

void write_fill_median_curves_csv(std::ostream& out, const StudyResults& results) {
  out << "strategy,arrived,placed\n";
  for (const auto& [strategy, runs] : by_strategy(results.fill)) {
    if (strategy == kBestOfflineName) {
      continue;  // one point per seed, not a curve
    }
    for (int step = 1; step <= 130; ++step) {
      const double arrived = step / 100.0;
      std::vector<double> placed;
      for (const FillRun* run : runs) {
        if (!run->result.curve.empty() && run->result.curve.back().arrived + 1e-12 >= arrived) {
          placed.push_back(placed_at(run->result.curve, arrived));
        }
      }
      if (!placed.empty()) {
        out << strategy << ',' << number(arrived, 2) << ',' << number(median(placed), 5) << '\n';
      }
    }
  }
}

void write_churn_median_curves_csv(std::ostream& out, const StudyResults& results) {
  out << "strategy,arrivals,rejected_pods\n";
  for (const auto& [strategy, runs] : by_strategy(results.churn)) {
    const std::size_t samples = runs.front()->result.samples.size();
    for (std::size_t i = 0; i < samples; ++i) {
      std::vector<double> rejected;
      for (const ChurnRun* run : runs) {
        if (i < run->result.samples.size()) {
          rejected.push_back(static_cast<double>(run->result.samples[i].rejected_pods));
        }
      }
      out << strategy << ',' << runs.front()->result.samples[i].arrivals << ','
          << number(median(rejected), 1) << '\n';
    }
  }
}

namespace {

// The what-if table: what N arrivals do to the cluster as given.
std::string summarize_what_if(const StudyResults& results) {
  const auto groups = by_strategy(results.fill);
  const FillResult& any = results.fill.front().result;  // the cluster is the same in every run
  std::string out =
      "What-if: " + std::to_string(results.what_if_arrivals) +
      " pods arrive, no departures (median over " + std::to_string(groups.front().second.size()) +
      " seeds; (min–max) over seeds)\n" + "Cluster EPC: " + number(gib(any.cluster_epc_bytes), 2) +
      " GiB; held by pods already there: " + number(gib(any.used_at_start_epc_bytes), 2) +
      " GiB; free before the arrivals: " + number(gib(any.free_at_start_epc_bytes()), 2) +
      " GiB\n\n";
  out +=
      "| strategy | pods placed | pods rejected | EPC rejected | free EPC left | within capacity "
      "|\n";
  out += "|---|---:|---:|---:|---:|---|\n";
  for (const auto& [strategy, runs] : groups) {
    std::vector<double> placed;
    std::vector<double> rejected;
    std::vector<double> rejected_epc;
    std::vector<double> free_left;
    bool within = true;
    for (const FillRun* run : runs) {
      const FillResult& r = run->result;
      placed.push_back(static_cast<double>(r.placed_pods));
      rejected.push_back(static_cast<double>(r.rejected_pods));
      rejected_epc.push_back(gib(r.rejected_epc_bytes));
      free_left.push_back(gib(r.free_at_end_epc_bytes()));
      within = within && r.stayed_within_capacity;
    }
    out += "| " + strategy + " | " + median_range(placed, 0, "") + " | " +
           median_range(rejected, 0, "") + " | " + median_range(rejected_epc, 2, " GiB") + " | " +
           median_range(free_left, 2, " GiB") + " | " + (within ? "yes" : "NO") + " |\n";
  }
  return out;
}

// 3600 → "3,600": the LP's size is read at a glance.
// Built by appending: std::string::insert here trips GCC 12's false -Wrestrict at -O3.
std::string thousands(std::int64_t value) {
  const std::string digits = std::to_string(value);
  const std::size_t sign = value < 0 ? 1 : 0;
  std::string out(digits, 0, sign);
  for (std::size_t i = sign; i < digits.size(); ++i) {
    if (i > sign && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

// Small LPs solve in well under a millisecond, large ones in seconds: both stay readable.
std::string duration(double seconds) {
  return seconds < 1.0 ? number(1000.0 * seconds, 1) + " ms" : number(seconds, 2) + " s";
}

// The LP bound's row of the fill table, then (after the table) its size and solve time. The size
// is the largest over seeds (arrivals differ, so shapes and columns do), the time the median.
std::string summarize_bound(const std::vector<BoundRun>& bounds) {
  if (bounds.empty()) {
    return {};
  }
  std::vector<double> unallocated;
  std::vector<double> seconds;
  PackingBound largest;
  for (const BoundRun& run : bounds) {
    const PackingBound& b = run.bound;
    if (b.unallocated_at_full >= 0.0) {
      unallocated.push_back(100.0 * b.unallocated_at_full);
    }
    seconds.push_back(b.solve_seconds);
    largest.pod_shapes = std::max(largest.pod_shapes, b.pod_shapes);
    largest.node_types = std::max(largest.node_types, b.node_types);
    largest.rows = std::max(largest.rows, b.rows);
    largest.columns = std::max(largest.columns, b.columns);
  }
  return "| limit (LP bound) | " + median_range(unallocated, 2, "%") +
         " | n/a | n/a | n/a | n/a |\n\nLP bound: " + thousands(largest.pod_shapes) +
         " pod shapes × " + thousands(largest.node_types) + " node types, " +
         thousands(largest.columns) + " columns, " + thousands(largest.rows) +
         " rows (largest over seeds), solved in " + duration(median(seconds)) + " (median)\n";
}

}  // namespace

std::string summarize(const StudyResults& results) {
  std::string out;
  if (!results.fill.empty() && results.what_if_arrivals > 0) {
    out += summarize_what_if(results);
  } else if (!results.fill.empty()) {
    out += "Fill (median over " + std::to_string(by_strategy(results.fill).front().second.size()) +
           " seeds; (min–max) over seeds)\n";
    if (const FillResult& any = results.fill.front().result; any.used_at_start_epc_bytes > 0) {
      out += "Percentages are of the EPC free at the start: " +
             number(gib(any.free_at_start_epc_bytes()), 2) + " of " +
             number(gib(any.cluster_epc_bytes), 2) + " GiB (pods already there hold the rest)\n";
    }
    out += '\n';
    out +=
        "| strategy | unallocated EPC at 100% arrived | arrived at first fitting rejection | "
        "placed EPC at 130% arrived | rejected pods | within capacity |\n";
    out += "|---|---:|---:|---:|---:|---|\n";
    for (const auto& [strategy, runs] : by_strategy(results.fill)) {
      std::vector<double> unallocated;
      std::vector<double> first_rejection;
      std::vector<double> placed_end;
      std::vector<double> rejected;
      bool within = true;
      for (const FillRun* run : runs) {
        const FillResult& r = run->result;
        if (r.unallocated_at_full >= 0.0) {  // < 0: arrivals never reached 100% (nothing free)
          unallocated.push_back(100.0 * r.unallocated_at_full);
        }
        first_rejection.push_back(100.0 * r.first_fitting_rejection);
        placed_end.push_back(
            100.0 * static_cast<double>(r.placed_epc_bytes) /
            static_cast<double>(std::max<std::int64_t>(r.free_at_start_epc_bytes(), 1)));
        rejected.push_back(static_cast<double>(r.rejected_pods));
        within = within && r.stayed_within_capacity;
      }
      const bool offline = strategy == kBestOfflineName;
      out += "| " + strategy + " | " + median_range(unallocated, 2, "%") + " | " +
             (offline ? std::string("n/a") : number(median(first_rejection), 1) + "%") + " | " +
             (offline ? std::string("n/a") : number(median(placed_end), 2) + "%") + " | " +
             (offline ? std::string("n/a") : number(median(rejected), 0)) + " | " +
             (within ? "yes" : "NO") + " |\n";
    }
    out += summarize_bound(results.bounds);
  }
  if (!results.churn.empty()) {
    if (!out.empty()) {
      out += '\n';
    }
    out += "Churn (median over " +
           std::to_string(by_strategy(results.churn).front().second.size()) +
           " seeds, after warm-up; (min–max) over seeds)\n\n";
    out +=
        "| strategy | rejected pods | rejected EPC | mean placed EPC | largest placeable EPC "
        "(median) | within capacity |\n";
    out += "|---|---:|---:|---:|---:|---|\n";
    for (const auto& [strategy, runs] : by_strategy(results.churn)) {
      std::vector<double> rejected;
      std::vector<double> rejected_epc;
      std::vector<double> placed;
      std::vector<double> largest;
      bool within = true;
      for (const ChurnRun* run : runs) {
        const ChurnResult& r = run->result;
        rejected.push_back(static_cast<double>(r.rejected_pods));
        rejected_epc.push_back(100.0 * rejected_epc_fraction(r));
        placed.push_back(100.0 * r.mean_placed);
        largest.push_back(static_cast<double>(r.median_largest_placeable_epc) / kGiB);
        within = within && r.stayed_within_capacity;
      }
      out += "| " + strategy + " | " + median_range(rejected, 0, "") + " | " +
             number(median(rejected_epc), 2) + "% | " + number(median(placed), 2) + "% | " +
             number(median(largest), 1) + " GiB | " + (within ? "yes" : "NO") + " |\n";
    }
  }
  return out;
}

}  // namespace epc::tools::sim
