#include "extender/metrics/metrics_impl.h"

#include <utility>
#include <vector>

#include <prometheus/text_serializer.h>

#include "common/byte_format.h"
#include "extender/core/capacity.h"
#include "extender/core/fit.h"
#include "extender/state/clock.h"

namespace epc::metrics {

namespace {

prometheus::Family<prometheus::Gauge>& gauge_family(prometheus::Registry& registry,
                                                    const std::string& name,
                                                    const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

const char* verb_label(int verb) {
  switch (static_cast<Verb>(verb)) {
    case Verb::kFilter:
      return "filter";
    case Verb::kPrioritize:
      return "prioritize";
    case Verb::kBind:
      return "bind";
    case Verb::kPreempt:
      return "preempt";
    case Verb::kOther:
      break;
  }
  return "other";
}

const char* report_kind_label(int kind) {
  switch (static_cast<state::ReportKind>(kind)) {
    case state::ReportKind::kSnapshot:
      return "snapshot";
    case state::ReportKind::kChange:
      return "change";
    case state::ReportKind::kHeartbeat:
      return "heartbeat";
    case state::ReportKind::kInvalid:
      break;
  }
  return "invalid";
}

double to_double(std::int64_t value) { return static_cast<double>(value); }

}  // namespace

// ---------------------------------------------------------------------------------------------

std::unique_ptr<Metrics> Metrics::create() { return create(Options{}); }

std::unique_ptr<Metrics> Metrics::create(Options options) {
  return std::make_unique<MetricsImpl>(options);
}

const prometheus::Histogram::BucketBoundaries& MetricsImpl::duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3,   2.5e-3,
      5e-3,  10e-3, 25e-3, 50e-3,  100e-3, 250e-3, 500e-3, 1.0};
  return kBuckets;
}

MetricsImpl::MetricsImpl(Options options)
    : options_(options),
      registry_(std::make_shared<prometheus::Registry>()),
      capacity_family_(gauge_family(*registry_, "epc_node_capacity_bytes",
                                    "SGX EPC the node reported, in bytes.")),
      requested_family_(gauge_family(*registry_, "epc_node_requested_bytes",
                                     "EPC requested by the SGX pods the extender accounts on the "
                                     "node, in bytes.")),
      free_family_(gauge_family(*registry_, "epc_node_free_bytes",
                                "EPC still free for new pods: capacity - max(requested, live "
                                "used) - headroom, in bytes.")),
      live_used_family_(gauge_family(*registry_, "epc_node_live_used_bytes",
                                     "EPC in use as measured by the kernel (only on nodes whose "
                                     "kernel accounts it), in bytes.")),
      enclave_family_(gauge_family(*registry_, "epc_node_enclave_slots",
                                   "sgx.intel.com/enclave slots by state (total, used).")),
      provision_family_(gauge_family(*registry_, "epc_node_provision_slots",
                                     "sgx.intel.com/provision slots by state (total, used).")),
      report_age_family_(gauge_family(*registry_, "epc_node_report_age_seconds",
                                      "Seconds since the node's last report (any kind).")),
      up_family_(gauge_family(*registry_, "epc_node_up",
                              "1 if the node is trusted for scheduling: reported, has SGX, "
                              "healthy and not stale.")),
      ledger_pods_family_(gauge_family(*registry_, "epc_node_ledger_pods",
                                       "SGX pods the extender accounts on the node.")),
      stream_connected_family_(gauge_family(*registry_, "epc_node_stream_connected",
                                            "1 while the node's plugin has its report stream "
                                            "open.")),
      capacity_mismatch_family_(gauge_family(
          *registry_, "epc_node_capacity_mismatch",
          "1 while the node's plugin reports an EPC capacity other than the node's allocatable "
          "sgx.intel.com/epc (the plugin's is used).")),
      cluster_capacity_(gauge_family(*registry_, "epc_cluster_capacity_bytes",
                                     "Sum of the EPC capacity of all reporting SGX nodes, in "
                                     "bytes.")
                            .Add({})),
      cluster_free_(gauge_family(*registry_, "epc_cluster_free_bytes",
                                 "Sum of free EPC over the nodes that are up, in bytes.")
                        .Add({})),
      cluster_nodes_(gauge_family(*registry_, "epc_cluster_nodes",
                                  "Nodes that ever reported to this extender.")
                         .Add({})),
      cluster_nodes_up_(
          gauge_family(*registry_, "epc_cluster_nodes_up", "Nodes that are up (see epc_node_up).")
              .Add({})) {
  auto& placeable_pods =
      gauge_family(*registry_, "epc_cluster_placeable_pods",
                   "How many more pods of a standard shape (EPC, one enclave slot) fit right now, "
                   "summed over the nodes that are up.");
  auto& placeable_nodes = gauge_family(*registry_, "epc_cluster_placeable_nodes",
                                       "Nodes that are up and take at least one more pod of the "
                                       "shape.");
  auto& stranded = gauge_family(*registry_, "epc_cluster_stranded_bytes",
                                "Free EPC on nodes that are up but cannot take one more pod of "
                                "the shape (too little EPC or no slot left), in bytes.");
  for (const std::int64_t epc_bytes : options_.capacity_shapes_epc_bytes) {
    const prometheus::Labels shape{{"shape", common::quantity_string(epc_bytes)}};
    shapes_.push_back(ShapeSeries{core::PodRequest{epc_bytes, 1, 0}, &placeable_pods.Add(shape),
                                  &placeable_nodes.Add(shape), &stranded.Add(shape)});
  }
  auto& requests = prometheus::BuildCounter()
                       .Name("epc_extender_requests_total")
                       .Help("Extender HTTP requests by verb and outcome.")
                       .Register(*registry_);
  auto& durations = prometheus::BuildHistogram()
                        .Name("epc_extender_request_duration_seconds")
                        .Help("Server-side time to answer an extender request, in seconds.")
                        .Register(*registry_);
  for (int verb = 0; verb < kVerbs; ++verb) {
    requests_[static_cast<std::size_t>(verb * kOutcomes)] =
        &requests.Add({{"verb", verb_label(verb)}, {"outcome", "ok"}});
    requests_[static_cast<std::size_t>(verb * kOutcomes + 1)] =
        &requests.Add({{"verb", verb_label(verb)}, {"outcome", "error"}});
    durations_[static_cast<std::size_t>(verb)] =
        &durations.Add({{"verb", verb_label(verb)}}, duration_buckets());
  }
  auto& messages = prometheus::BuildCounter()
                       .Name("epc_extender_report_messages_total")
                       .Help(
                           "NodeReport messages received from device plugins, by kind and "
                           "result (applied, refused).")
                       .Register(*registry_);
  for (int kind = 0; kind < kReportKinds; ++kind) {
    report_messages_[static_cast<std::size_t>(kind * kReportResults)] =
        &messages.Add({{"kind", report_kind_label(kind)}, {"result", "applied"}});
    report_messages_[static_cast<std::size_t>(kind * kReportResults + 1)] =
        &messages.Add({{"kind", report_kind_label(kind)}, {"result", "refused"}});
  }
}

void MetricsImpl::observe_request(Verb verb, Outcome outcome, double seconds) {
  const auto v = static_cast<std::size_t>(verb);
  if (v >= static_cast<std::size_t>(kVerbs)) {
    return;
  }
  requests_[v * kOutcomes + static_cast<std::size_t>(outcome == Outcome::kError)]->Increment();
  durations_[v]->Observe(seconds);
}

void MetricsImpl::observe_report_message(state::ReportKind kind, state::ReportResult result) {
  const auto k = static_cast<std::size_t>(kind);
  if (k >= static_cast<std::size_t>(kReportKinds)) {
    return;
  }
  report_messages_[k * kReportResults +
                   static_cast<std::size_t>(result == state::ReportResult::kRefused)]
      ->Increment();
}

// ---------------------------------------------------------------------------------------------
// Per-node series (state writer).

void MetricsImpl::add_node(const std::string& name, NodeSeries& series) {
  const prometheus::Labels node{{"node", name}};
  series.capacity = &capacity_family_.Add(node);
  series.requested = &requested_family_.Add(node);
  series.free = &free_family_.Add(node);
  series.enclave_total = &enclave_family_.Add({{"node", name}, {"state", "total"}});
  series.enclave_used = &enclave_family_.Add({{"node", name}, {"state", "used"}});
  series.provision_total = &provision_family_.Add({{"node", name}, {"state", "total"}});
  series.provision_used = &provision_family_.Add({{"node", name}, {"state", "used"}});
  series.report_age = &report_age_family_.Add(node);
  series.up = &up_family_.Add(node);
  series.ledger_pods = &ledger_pods_family_.Add(node);
  series.stream_connected = &stream_connected_family_.Add(node);
  series.capacity_mismatch = &capacity_mismatch_family_.Add(node);
}

void MetricsImpl::remove_node(NodeSeries& series) {
  capacity_family_.Remove(series.capacity);
  requested_family_.Remove(series.requested);
  free_family_.Remove(series.free);
  if (series.live_used != nullptr) {
    live_used_family_.Remove(series.live_used);
  }
  enclave_family_.Remove(series.enclave_total);
  enclave_family_.Remove(series.enclave_used);
  provision_family_.Remove(series.provision_total);
  provision_family_.Remove(series.provision_used);
  report_age_family_.Remove(series.report_age);
  up_family_.Remove(series.up);
  ledger_pods_family_.Remove(series.ledger_pods);
  stream_connected_family_.Remove(series.stream_connected);
  capacity_mismatch_family_.Remove(series.capacity_mismatch);
}

void MetricsImpl::refresh_nodes(const state::ClusterSnapshot& snapshot, std::int64_t now_ns,
                                const core::NodeAccounting& accounting) {
  std::lock_guard lock(nodes_mutex_);
  accounting_ = accounting;  // the placeable-pod gauges count with the same headroom

  // Nodes that left the snapshot lose their series.
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (!snapshot.find(it->first).has_value()) {
      remove_node(it->second);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }

  std::int64_t cluster_capacity = 0;
  const state::NodeTable& table = snapshot.nodes();
  for (std::uint32_t i = 0; i < table.size(); ++i) {
    const core::NodeRow& row = table.row(i);
    const state::NodeInfo& info = table.info(i);
    auto it = nodes_.find(info.name);
    if (it == nodes_.end()) {
      it = nodes_.emplace(info.name, NodeSeries{}).first;
      add_node(info.name, it->second);
    }
    NodeSeries& series = it->second;
    series.capacity->Set(to_double(row.epc_capacity_bytes));
    series.requested->Set(to_double(row.epc_requested_bytes));
    series.free_bytes = core::free_epc_bytes(row, accounting);
    series.free->Set(to_double(series.free_bytes));
    if (row.live_used_known) {
      if (series.live_used == nullptr) {
        series.live_used = &live_used_family_.Add({{"node", info.name}});
      }
      series.live_used->Set(to_double(row.epc_live_used_bytes));
    } else if (series.live_used != nullptr) {
      // No number is better than a stale one when the kernel stops accounting.
      live_used_family_.Remove(series.live_used);
      series.live_used = nullptr;
    }
    series.enclave_total->Set(to_double(row.enclave_slots_total));
    series.enclave_used->Set(to_double(row.enclave_slots_used));
    series.provision_total->Set(to_double(row.provision_slots_total));
    series.provision_used->Set(to_double(row.provision_slots_used));
    series.ledger_pods->Set(to_double(info.ledger_pods));
    series.stream_connected->Set(info.stream_connected ? 1.0 : 0.0);
    series.capacity_mismatch->Set(info.capacity_mismatch ? 1.0 : 0.0);
    series.row = row;
    if (row.has_sgx) {
      cluster_capacity += row.epc_capacity_bytes;
    }
  }
  cluster_capacity_.Set(to_double(cluster_capacity));
  cluster_nodes_.Set(to_double(static_cast<std::int64_t>(table.size())));
  update_scrape_time_gauges(now_ns);
}

// ---------------------------------------------------------------------------------------------
// Scrape.

void MetricsImpl::update_scrape_time_gauges(std::int64_t now_ns) const {
  std::int64_t cluster_free = 0;
  std::int64_t up_count = 0;
  for (const auto& [name, series] : nodes_) {
    const std::int64_t report_ns = series.row.report_time_ns;
    const std::int64_t age_ns = now_ns > report_ns ? now_ns - report_ns : 0;
    series.report_age->Set(to_double(age_ns) / 1e9);
    const bool up = core::node_trusted(series.row, now_ns, options_.stale_after_ns);
    series.up->Set(up ? 1.0 : 0.0);
    if (up) {
      cluster_free += series.free_bytes;
      ++up_count;
    }
  }
  cluster_free_.Set(to_double(cluster_free));
  cluster_nodes_up_.Set(to_double(up_count));
  const core::FitContext context{now_ns, options_.stale_after_ns, accounting_};
  for (const ShapeSeries& shape : shapes_) {
    core::CapacityCounter counter(shape.shape, context);
    for (const auto& [name, series] : nodes_) {
      counter.add(series.row);
    }
    shape.pods->Set(to_double(counter.result().total_pods));
    shape.nodes->Set(to_double(counter.result().nodes_with_room));
    shape.stranded->Set(to_double(counter.result().stranded_epc_bytes));
  }
}

void MetricsImpl::set_snapshot_source(SnapshotSource source, core::NodeAccounting accounting) {
  std::lock_guard lock(nodes_mutex_);
  snapshot_source_ = std::move(source);
  accounting_ = accounting;
}

std::string MetricsImpl::serialize() {
  SnapshotSource source;
  core::NodeAccounting accounting;
  {
    std::lock_guard lock(nodes_mutex_);
    source = snapshot_source_;
    accounting = accounting_;
  }
  if (source) {
    // Pulled at scrape time: the state writer never pays for metrics, and report times moved in
    // place by heartbeats are read as they are now.
    const std::shared_ptr<const state::ClusterSnapshot> snapshot = source();
    refresh_nodes(*snapshot, state::monotonic_now_ns(), accounting);
  } else {
    std::lock_guard lock(nodes_mutex_);
    update_scrape_time_gauges(state::monotonic_now_ns());
  }
  const std::vector<prometheus::MetricFamily> families = registry_->Collect();
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace epc::metrics
