#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "extender/core/fit.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/metrics/metrics.h"

namespace epc::metrics {

// Metrics on prometheus-cpp. Every family, and every per-verb / per-kind child, is registered in
// the constructor and kept as a reference, so observe_request() and observe_report_message() are
// a lookup in a small array plus an atomic update. Per-node series are added and removed only in
// refresh_nodes() (the state writer), never on the request path.
class MetricsImpl final : public Metrics {
 public:
  explicit MetricsImpl(Options options);

  // Metrics
  void observe_request(Verb verb, Outcome outcome, double seconds) override;
  void refresh_nodes(const state::ClusterSnapshot& snapshot, std::int64_t now_ns,
                     const core::NodeAccounting& accounting) override;
  void observe_report_message(state::ReportKind kind, state::ReportResult result) override;
  void observe_filter(std::span<const std::uint32_t> rejected_by_reason, bool placeable) override;
  void observe_bind(BindResult result) override;
  void observe_preempt(PreemptResult result, std::uint32_t victims) override;
  void observe_limit(Limit limit) override;
  void observe_report_refusal(ReportRefusal reason) override;
  std::string serialize() override;
  void set_snapshot_source(SnapshotSource source, core::NodeAccounting accounting) override;

  // Latency buckets in seconds: 10 µs (a filter on a small cluster) to 1 s (far beyond the
  // scheduler's patience), about three per decade.
  static const prometheus::Histogram::BucketBoundaries& duration_buckets();

 private:
  static constexpr int kVerbs = 5;
  static constexpr int kOutcomes = 2;
  static constexpr int kReportKinds = 4;
  static constexpr int kReportResults = 2;
  static constexpr int kBindResults = 6;
  static constexpr int kPreemptResults = 3;
  static constexpr int kLedgerSources = 4;

  // One node's series. Gauges are owned by their families; the pointers stay valid until Remove.
  struct NodeSeries {
    prometheus::Gauge* capacity = nullptr;
    prometheus::Gauge* requested = nullptr;
    prometheus::Gauge* free = nullptr;
    prometheus::Gauge* live_used = nullptr;  // only while the node knows its live use
    prometheus::Gauge* enclave_total = nullptr;
    prometheus::Gauge* enclave_used = nullptr;
    prometheus::Gauge* provision_total = nullptr;
    prometheus::Gauge* provision_used = nullptr;
    prometheus::Gauge* report_age = nullptr;
    prometheus::Gauge* up = nullptr;
    prometheus::Gauge* ledger_pods = nullptr;
    prometheus::Gauge* stream_connected = nullptr;
    prometheus::Gauge* capacity_mismatch = nullptr;
    // Inputs for the scrape-time gauges.
    std::int64_t free_bytes = 0;
    core::NodeRow row;  // as last published: "up" is core::node_trusted at scrape time
  };

  void add_node(const std::string& name, NodeSeries& series);
  void remove_node(NodeSeries& series);
  // Sets report age, up and the cluster free/up totals for `now_ns`. Needs nodes_mutex_.
  void update_scrape_time_gauges(std::int64_t now_ns) const;

  const Options options_;
  std::shared_ptr<prometheus::Registry> registry_;

  // Request path.
  std::array<prometheus::Counter*, kVerbs * kOutcomes> requests_{};
  std::array<prometheus::Histogram*, kVerbs> durations_{};
  std::array<prometheus::Counter*, kReportKinds * kReportResults> report_messages_{};
  std::array<prometheus::Counter*, core::kFitReasonCount> filter_rejections_{};  // [kFits] unused
  std::array<prometheus::Counter*, 2> filter_pods_{};  // unplaceable, placeable
  std::array<prometheus::Counter*, kBindResults> binds_{};
  std::array<prometheus::Counter*, kPreemptResults> preemptions_{};
  prometheus::Counter* preempt_victims_ = nullptr;
  std::array<prometheus::Counter*, kLimitCount> limit_rejections_{};
  std::array<prometheus::Counter*, kReportRefusalCount> report_refusals_{};

  // The ledger, from the snapshot's pod table (refresh_nodes).
  std::array<prometheus::Gauge*, kLedgerSources> ledger_pods_by_source_{};
  prometheus::Gauge* ledger_unknown_epc_ = nullptr;
  prometheus::Gauge* ledger_api_pods_ = nullptr;
  prometheus::Gauge* ledger_reservations_ = nullptr;
  prometheus::Gauge* ledger_remembered_requests_ = nullptr;

  // Per-node families.
  prometheus::Family<prometheus::Gauge>& capacity_family_;
  prometheus::Family<prometheus::Gauge>& requested_family_;
  prometheus::Family<prometheus::Gauge>& free_family_;
  prometheus::Family<prometheus::Gauge>& live_used_family_;
  prometheus::Family<prometheus::Gauge>& enclave_family_;
  prometheus::Family<prometheus::Gauge>& provision_family_;
  prometheus::Family<prometheus::Gauge>& report_age_family_;
  prometheus::Family<prometheus::Gauge>& up_family_;
  prometheus::Family<prometheus::Gauge>& ledger_pods_family_;
  prometheus::Family<prometheus::Gauge>& stream_connected_family_;
  prometheus::Family<prometheus::Gauge>& capacity_mismatch_family_;

  // Cluster totals.
  prometheus::Gauge& cluster_capacity_;
  prometheus::Gauge& cluster_free_;
  prometheus::Gauge& cluster_nodes_;
  prometheus::Gauge& cluster_nodes_up_;

  // What still fits of each configured shape (update_scrape_time_gauges).
  struct ShapeSeries {
    core::PodRequest shape;
    prometheus::Gauge* pods = nullptr;
    prometheus::Gauge* nodes = nullptr;
    prometheus::Gauge* stranded = nullptr;
  };
  std::vector<ShapeSeries> shapes_;

  mutable std::mutex nodes_mutex_;
  SnapshotSource snapshot_source_;                        // guarded by nodes_mutex_
  core::NodeAccounting accounting_;                       // guarded by nodes_mutex_
  std::map<std::string, NodeSeries, std::less<>> nodes_;  // guarded by nodes_mutex_
};

}  // namespace epc::metrics
