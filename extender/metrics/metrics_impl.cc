#include "extender/metrics/metrics_impl.h"

#include <algorithm>
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

// Label values of the enums: snake_case forms of the enumerators, stable across releases
// (dashboards and alerts select on them).
const char* fit_reason_label(core::FitReason reason) {
  switch (reason) {
    case core::FitReason::kFits:
      return "fits";
    case core::FitReason::kNoReport:
      return "no_report";
    case core::FitReason::kNoSgx:
      return "no_sgx";
    case core::FitReason::kEpcCapacityTooSmall:
      return "epc_capacity_too_small";
    case core::FitReason::kEnclaveSlotsTooFew:
      return "enclave_slots_too_few";
    case core::FitReason::kProvisionSlotsTooFew:
      return "provision_slots_too_few";
    case core::FitReason::kStaleReport:
      return "stale_report";
    case core::FitReason::kUnhealthy:
      return "unhealthy";
    case core::FitReason::kInsufficientEpc:
      return "insufficient_epc";
    case core::FitReason::kInsufficientEnclaveSlots:
      return "insufficient_enclave_slots";
    case core::FitReason::kInsufficientProvisionSlots:
      return "insufficient_provision_slots";
  }
  return "unknown";
}

const char* bind_result_label(BindResult result) {
  switch (result) {
    case BindResult::kBound:
      return "bound";
    case BindResult::kNoFit:
      return "no_fit";
    case BindResult::kInvalidRequest:
      return "invalid_request";
    case BindResult::kApiRefused:
      return "api_refused";
    case BindResult::kApiUnreachable:
      return "api_unreachable";
    case BindResult::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

const char* preempt_result_label(PreemptResult result) {
  switch (result) {
    case PreemptResult::kVictims:
      return "victims";
    case PreemptResult::kNoVictims:
      return "no_victims";
    case PreemptResult::kNotSgx:
      return "not_sgx";
  }
  return "unknown";
}

const char* limit_label(Limit limit) {
  switch (limit) {
    case Limit::kHttpConnections:
      return "http_connections";
    case Limit::kHttpHeaderSize:
      return "http_header_size";
    case Limit::kHttpBodySize:
      return "http_body_size";
    case Limit::kHttpReadTimeout:
      return "http_read_timeout";
    case Limit::kHttpTlsHandshake:
      return "http_tls_handshake";
    case Limit::kGrpcStreams:
      return "grpc_streams";
    case Limit::kGrpcStreamRate:
      return "grpc_stream_rate";
    case Limit::kGrpcStreamNodes:
      return "grpc_stream_nodes";
    case Limit::kKubeWatchEvent:
      return "kube_watch_event_size";
    case Limit::kKubeResponseSize:
      return "kube_response_size";
  }
  return "unknown";
}

const char* report_refusal_label(ReportRefusal reason) {
  switch (reason) {
    case ReportRefusal::kNoCredentials:
      return "no_credentials";
    case ReportRefusal::kTokenInvalid:
      return "token_invalid";
    case ReportRefusal::kServiceAccount:
      return "service_account";
    case ReportRefusal::kNoNode:
      return "no_node";
    case ReportRefusal::kReviewFailed:
      return "review_failed";
    case ReportRefusal::kWrongNode:
      return "wrong_node";
    case ReportRefusal::kExpired:
      return "expired";
  }
  return "unknown";
}

const char* ledger_source_label(core::LedgerSource source) {
  switch (source) {
    case core::LedgerSource::kSchedulerRequest:
      return "scheduler_request";
    case core::LedgerSource::kNodeReport:
      return "node_report";
    case core::LedgerSource::kBind:
      return "bind";
    case core::LedgerSource::kApiWatch:
      return "api_watch";
  }
  return "unknown";
}

double to_double(std::int64_t value) { return static_cast<double>(value); }
double to_double(std::size_t value) { return static_cast<double>(value); }

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

  auto& rejections = prometheus::BuildCounter()
                         .Name("epc_extender_filter_rejections_total")
                         .Help(
                             "Nodes the filter rejected for an SGX pod, by reason (one per node "
                             "per filter call).")
                         .Register(*registry_);
  for (int reason = 1; reason < core::kFitReasonCount; ++reason) {
    filter_rejections_[static_cast<std::size_t>(reason)] =
        &rejections.Add({{"reason", fit_reason_label(static_cast<core::FitReason>(reason))}});
  }
  auto& filter_pods = prometheus::BuildCounter()
                          .Name("epc_extender_filter_pods_total")
                          .Help(
                              "Filter calls for SGX pods, by whether any node passed "
                              "(placeable) or none (unplaceable).")
                          .Register(*registry_);
  filter_pods_[0] = &filter_pods.Add({{"result", "unplaceable"}});
  filter_pods_[1] = &filter_pods.Add({{"result", "placeable"}});
  auto& binds = prometheus::BuildCounter()
                    .Name("epc_extender_binds_total")
                    .Help(
                        "Bind verbs by result: bound, no_fit (the reservation was refused), "
                        "invalid_request, api_refused, api_unreachable, unavailable.")
                    .Register(*registry_);
  for (int result = 0; result < kBindResults; ++result) {
    binds_[static_cast<std::size_t>(result)] =
        &binds.Add({{"result", bind_result_label(static_cast<BindResult>(result))}});
  }
  auto& preemptions = prometheus::BuildCounter()
                          .Name("epc_extender_preemptions_total")
                          .Help(
                              "Preempt verbs answered, by result: victims (some node frees "
                              "enough), no_victims, not_sgx (proposals returned unchanged).")
                          .Register(*registry_);
  for (int result = 0; result < kPreemptResults; ++result) {
    preemptions_[static_cast<std::size_t>(result)] =
        &preemptions.Add({{"result", preempt_result_label(static_cast<PreemptResult>(result))}});
  }
  preempt_victims_ = &prometheus::BuildCounter()
                          .Name("epc_extender_preempt_victims_total")
                          .Help("Victims the preempt verb returned, over all nodes and calls.")
                          .Register(*registry_)
                          .Add({});
  auto& limits = prometheus::BuildCounter()
                     .Name("epc_extender_limit_rejections_total")
                     .Help(
                         "Inputs refused and connections or streams cut off by a configured "
                         "bound, by limit (docs/operations.md, Bounds).")
                     .Register(*registry_);
  for (int limit = 0; limit < kLimitCount; ++limit) {
    limit_rejections_[static_cast<std::size_t>(limit)] =
        &limits.Add({{"limit", limit_label(static_cast<Limit>(limit))}});
  }
  auto& refusals = prometheus::BuildCounter()
                       .Name("epc_extender_report_refusals_total")
                       .Help(
                           "Report streams and reports refused for their node identity "
                           "(grpc.auth token or mtls), by reason (docs/security.md).")
                       .Register(*registry_);
  for (int reason = 0; reason < kReportRefusalCount; ++reason) {
    report_refusals_[static_cast<std::size_t>(reason)] =
        &refusals.Add({{"reason", report_refusal_label(static_cast<ReportRefusal>(reason))}});
  }

  auto& ledger_pods =
      gauge_family(*registry_, "epc_ledger_pods",
                   "SGX pods the extender accounts on nodes, by the source that "
                   "placed them (api_watch, bind, node_report, scheduler_request).");
  for (int source = 0; source < kLedgerSources; ++source) {
    ledger_pods_by_source_[static_cast<std::size_t>(source)] = &ledger_pods.Add(
        {{"source", ledger_source_label(static_cast<core::LedgerSource>(source))}});
  }
  ledger_unknown_epc_ = &gauge_family(*registry_, "epc_ledger_pods_unknown_epc",
                                      "SGX pods accounted on nodes whose EPC no source knows "
                                      "(counted as 0 until one does).")
                             .Add({});
  ledger_api_pods_ = &gauge_family(*registry_, "epc_ledger_api_pods",
                                   "SGX pods the Kubernetes API watch knows, bound or pending.")
                          .Add({});
  ledger_reservations_ = &gauge_family(*registry_, "epc_ledger_reservations",
                                       "Binds of this extender not yet confirmed by the API watch.")
                              .Add({});
  ledger_remembered_requests_ =
      &gauge_family(*registry_, "epc_ledger_remembered_requests",
                    "Scheduler requests remembered to fill in the EPC of pods that nodes report "
                    "without it.")
           .Add({});
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

void MetricsImpl::observe_filter(std::span<const std::uint32_t> rejected_by_reason,
                                 bool placeable) {
  const std::size_t count = std::min(rejected_by_reason.size(), filter_rejections_.size());
  for (std::size_t reason = 1; reason < count; ++reason) {
    if (rejected_by_reason[reason] != 0) {
      filter_rejections_[reason]->Increment(static_cast<double>(rejected_by_reason[reason]));
    }
  }
  filter_pods_[placeable ? 1 : 0]->Increment();
}

void MetricsImpl::observe_bind(BindResult result) {
  const auto r = static_cast<std::size_t>(result);
  if (r < binds_.size()) {
    binds_[r]->Increment();
  }
}

void MetricsImpl::observe_preempt(PreemptResult result, std::uint32_t victims) {
  const auto r = static_cast<std::size_t>(result);
  if (r < preemptions_.size()) {
    preemptions_[r]->Increment();
  }
  if (victims != 0) {
    preempt_victims_->Increment(static_cast<double>(victims));
  }
}

void MetricsImpl::observe_report_refusal(ReportRefusal reason) {
  const auto r = static_cast<std::size_t>(reason);
  if (r < report_refusals_.size()) {
    report_refusals_[r]->Increment();
  }
}

void MetricsImpl::observe_limit(Limit limit) {
  const auto l = static_cast<std::size_t>(limit);
  if (l < limit_rejections_.size()) {
    limit_rejections_[l]->Increment();
  }
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

  const state::PodTable& pods = snapshot.pods();
  std::array<std::size_t, kLedgerSources> by_source{};
  std::size_t unknown_epc = 0;
  for (const state::PodRecord& pod : pods.all()) {
    const auto source = static_cast<std::size_t>(pod.source);
    if (source < by_source.size()) {
      ++by_source[source];
    }
    unknown_epc += pod.epc_known ? 0 : 1;
  }
  for (std::size_t source = 0; source < by_source.size(); ++source) {
    ledger_pods_by_source_[source]->Set(to_double(by_source[source]));
  }
  ledger_unknown_epc_->Set(to_double(unknown_epc));
  const state::LedgerSizes& sizes = pods.ledger_sizes();
  ledger_api_pods_->Set(to_double(sizes.api_pods));
  ledger_reservations_->Set(to_double(sizes.reservations));
  ledger_remembered_requests_->Set(to_double(sizes.remembered_requests));
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
