#pragma once

#include <ostream>
#include <string>

#include "tools/sim/study.h"

namespace epc::tools::sim {

// Machine-readable results, one CSV table each (header first, '.' decimals, fractions 0..1):
//   fill.csv          strategy,seed,arrived_pods,placed_pods,rejected_pods,unallocated_at_full,
//                     first_fitting_rejection,within_capacity,rejected_epc_gib,
//                     used_at_start_epc_gib,free_at_end_epc_gib
//                     (fractions of the EPC free at the start, FillResult; -1 = n/a); after
//                     the strategies and best-offline, one lp-bound row per seed whose
//                     unallocated_at_full is the LP's lower bound (PackingBound; its placed,
//                     rejected and GiB columns other than used_at_start are -1)
//   fill_curves.csv   strategy,seed,arrived,placed
//   churn.csv         strategy,seed,counted_arrivals,rejected_pods,rejected_epc_fraction,
//                     mean_placed,median_largest_placeable_gib,within_capacity
//   churn_samples.csv strategy,seed,arrivals,rejected_pods,placed,largest_placeable_gib
void write_fill_csv(std::ostream& out, const StudyResults& results);
void write_fill_curves_csv(std::ostream& out, const StudyResults& results);
void write_churn_csv(std::ostream& out, const StudyResults& results);
void write_churn_samples_csv(std::ostream& out, const StudyResults& results);

// Median-over-seeds curves for plotting: strategy,arrived,placed (fill, on a 1% grid) and
// strategy,arrivals,rejected_pods (churn).
void write_fill_median_curves_csv(std::ostream& out, const StudyResults& results);
void write_churn_median_curves_csv(std::ostream& out, const StudyResults& results);

// The human summary: per strategy, the median over seeds of each headline figure, as Markdown
// tables (they paste into docs/bin-packing.md as they are). The Fill table ends with best-offline
// and a "limit (LP bound)" row, followed by a line with the LP's size and median solve time. For
// what-if runs (results.what_if_arrivals > 0) a What-if table replaces the Fill table: pods placed
// and rejected, EPC rejected, and the EPC left free at the end (pre-existing use counted as taken).
std::string summarize(const StudyResults& results);

}  // namespace epc::tools::sim
