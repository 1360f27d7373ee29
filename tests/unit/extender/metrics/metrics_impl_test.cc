#include "extender/metrics/metrics_impl.h"

#include <array>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "extender/state/clock.h"
#include "tests/support/exposition.h"

namespace epc::metrics {
namespace {

constexpr std::int64_t kMi = 1 << 20;
constexpr std::int64_t kSecond = 1'000'000'000;

std::optional<double> sample(const std::string& text, const std::string& series) {
  return test_support::exposition_sample(text, series);
}

core::NodeRow row(std::int64_t capacity, std::int64_t requested, std::int64_t report_time_ns) {
  core::NodeRow r;
  r.ever_reported = true;
  r.has_sgx = true;
  r.epc_capacity_bytes = capacity;
  r.epc_requested_bytes = requested;
  r.enclave_slots_total = 110;
  r.enclave_slots_used = 3;
  r.provision_slots_total = 10;
  r.provision_slots_used = 1;
  r.report_time_ns = report_time_ns;
  return r;
}

state::NodeInfo info(std::string name, std::int64_t ledger_pods = 0) {
  state::NodeInfo i;
  i.name = std::move(name);
  i.ledger_pods = ledger_pods;
  i.stream_connected = true;
  return i;
}

TEST(MetricsImplTest, RequestSeriesExistBeforeAnyRequest) {
  auto metrics = Metrics::create();
  const std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_extender_requests_total{outcome="ok",verb="filter"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_requests_total{outcome="error",verb="prioritize"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_request_duration_seconds_count{verb="filter"})"), 0.0);
  EXPECT_NE(text.find("# TYPE epc_extender_request_duration_seconds histogram"), std::string::npos);
}

TEST(MetricsImplTest, ObserveRequestCountsByVerbAndOutcome) {
  auto metrics = Metrics::create();
  metrics->observe_request(Verb::kFilter, Outcome::kOk, 40e-6);
  metrics->observe_request(Verb::kFilter, Outcome::kOk, 2e-3);
  metrics->observe_request(Verb::kPrioritize, Outcome::kError, 0.5);
  const std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_extender_requests_total{outcome="ok",verb="filter"})"), 2.0);
  EXPECT_EQ(sample(text, R"(epc_extender_requests_total{outcome="error",verb="filter"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_requests_total{outcome="error",verb="prioritize"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_request_duration_seconds_count{verb="filter"})"), 2.0);
  // 40 µs falls in the 50 µs bucket, 2 ms does not.
  EXPECT_EQ(
      sample(text, R"(epc_extender_request_duration_seconds_bucket{verb="filter",le="5e-05"})"),
      1.0);
  EXPECT_EQ(
      sample(text, R"(epc_extender_request_duration_seconds_bucket{verb="filter",le="0.0025"})"),
      2.0);
}

TEST(MetricsImplTest, DurationBucketsAreSortedAndSpan10usTo1s) {
  const auto& buckets = MetricsImpl::duration_buckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_DOUBLE_EQ(buckets.front(), 10e-6);
  EXPECT_DOUBLE_EQ(buckets.back(), 1.0);
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_LT(buckets[i - 1], buckets[i]);
  }
}

TEST(MetricsImplTest, RefreshAddsAndRemovesNodeSeries) {
  auto metrics = Metrics::create();
  const std::int64_t now = state::monotonic_now_ns();
  state::ClusterSnapshot both;
  both.add(info("node-a", 2), row(128 * kMi, 32 * kMi, now));
  both.add(info("node-b"), row(64 * kMi, 0, now));
  metrics->refresh_nodes(both, now, core::NodeAccounting{8 * kMi});

  std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_node_capacity_bytes{node="node-a"})"), 128.0 * kMi);
  EXPECT_EQ(sample(text, R"(epc_node_requested_bytes{node="node-a"})"), 32.0 * kMi);
  // free = 128Mi − max(32Mi, live unknown) − 8Mi headroom = 88Mi.
  EXPECT_EQ(sample(text, R"(epc_node_free_bytes{node="node-a"})"), 88.0 * kMi);
  EXPECT_EQ(sample(text, R"(epc_node_enclave_slots{node="node-a",state="total"})"), 110.0);
  EXPECT_EQ(sample(text, R"(epc_node_enclave_slots{node="node-a",state="used"})"), 3.0);
  EXPECT_EQ(sample(text, R"(epc_node_provision_slots{node="node-a",state="used"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_node_ledger_pods{node="node-a"})"), 2.0);
  EXPECT_EQ(sample(text, R"(epc_node_capacity_bytes{node="node-b"})"), 64.0 * kMi);
  // Cluster: 128Mi + 64Mi capacity; free 88Mi + (64Mi − 8Mi) = 144Mi.
  EXPECT_EQ(sample(text, "epc_cluster_capacity_bytes"), 192.0 * kMi);
  EXPECT_EQ(sample(text, "epc_cluster_free_bytes"), 144.0 * kMi);
  EXPECT_EQ(sample(text, "epc_cluster_nodes"), 2.0);

  state::ClusterSnapshot only_a;
  only_a.add(info("node-a", 2), row(128 * kMi, 32 * kMi, now));
  metrics->refresh_nodes(only_a, now, core::NodeAccounting{8 * kMi});
  text = metrics->serialize();
  EXPECT_TRUE(sample(text, R"(epc_node_capacity_bytes{node="node-a"})").has_value());
  EXPECT_EQ(text.find("node-b"), std::string::npos) << text;
  EXPECT_EQ(sample(text, "epc_cluster_capacity_bytes"), 128.0 * kMi);
}

TEST(MetricsImplTest, LiveUseIsExportedOnlyWhileKnown) {
  auto metrics = Metrics::create();
  const std::int64_t now = state::monotonic_now_ns();
  core::NodeRow r = row(128 * kMi, 0, now);
  r.live_used_known = true;
  r.epc_live_used_bytes = 40 * kMi;
  state::ClusterSnapshot known;
  known.add(info("node-a"), r);
  metrics->refresh_nodes(known, now, {});
  EXPECT_EQ(sample(metrics->serialize(), R"(epc_node_live_used_bytes{node="node-a"})"), 40.0 * kMi);

  r.live_used_known = false;
  state::ClusterSnapshot unknown;
  unknown.add(info("node-a"), r);
  metrics->refresh_nodes(unknown, now, {});
  EXPECT_FALSE(
      sample(metrics->serialize(), R"(epc_node_live_used_bytes{node="node-a"})").has_value());
}

TEST(MetricsImplTest, ReportAgeAndUpAreComputedAtScrapeTime) {
  auto metrics = Metrics::create(Metrics::Options{10 * kSecond, {}});
  const std::int64_t now = state::monotonic_now_ns();
  state::ClusterSnapshot snap;
  snap.add(info("fresh"), row(64 * kMi, 0, now - 5 * kSecond));
  snap.add(info("stale"), row(64 * kMi, 0, now - 20 * kSecond));
  core::NodeRow unhealthy = row(64 * kMi, 0, now);
  unhealthy.health = core::NodeHealth::kUnhealthy;
  snap.add(info("sick"), unhealthy);
  // Refresh with an old "now": the scrape must still use its own clock.
  metrics->refresh_nodes(snap, now - 30 * kSecond, {});

  const std::string text = metrics->serialize();
  const auto fresh_age = sample(text, R"(epc_node_report_age_seconds{node="fresh"})");
  ASSERT_TRUE(fresh_age.has_value());
  EXPECT_GE(*fresh_age, 5.0);
  EXPECT_LT(*fresh_age, 10.0);
  EXPECT_GE(*sample(text, R"(epc_node_report_age_seconds{node="stale"})"), 20.0);
  EXPECT_EQ(sample(text, R"(epc_node_up{node="fresh"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_node_up{node="stale"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_node_up{node="sick"})"), 0.0);
  EXPECT_EQ(sample(text, "epc_cluster_nodes_up"), 1.0);
  // Only the node that is up counts towards cluster free EPC.
  EXPECT_EQ(sample(text, "epc_cluster_free_bytes"), 64.0 * kMi);
}

// The placeable-pod gauges are the /capacity answer for each configured shape, at scrape time.
TEST(MetricsImplTest, PlaceablePodsPerShapeCountOnlyNodesThatAreUp) {
  auto metrics = Metrics::create(Metrics::Options{10 * kSecond, {64 * kMi, 1024 * kMi}});
  const std::int64_t now = state::monotonic_now_ns();
  state::ClusterSnapshot snap;
  snap.add(info("roomy"), row(512 * kMi, 128 * kMi, now));  // 384Mi free: 6 of 64Mi
  core::NodeRow slotless = row(256 * kMi, 0, now);          // 256Mi free, no slot left
  slotless.enclave_slots_used = slotless.enclave_slots_total;
  snap.add(info("slotless"), slotless);
  snap.add(info("stale"), row(4096 * kMi, 0, now - 60 * kSecond));  // not up: counts nothing
  metrics->refresh_nodes(snap, now, core::NodeAccounting{.epc_headroom_bytes = 64 * kMi});

  const std::string text = metrics->serialize();
  // Headroom 64Mi: roomy has 320Mi free for pods, 5 of 64Mi; slotless strands its 192Mi.
  EXPECT_EQ(sample(text, R"(epc_cluster_placeable_pods{shape="64Mi"})"), 5.0);
  EXPECT_EQ(sample(text, R"(epc_cluster_placeable_nodes{shape="64Mi"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_cluster_stranded_bytes{shape="64Mi"})"), 192.0 * kMi);
  // 1Gi fits nowhere: every up node's free EPC is stranded for it.
  EXPECT_EQ(sample(text, R"(epc_cluster_placeable_pods{shape="1Gi"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_cluster_placeable_nodes{shape="1Gi"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_cluster_stranded_bytes{shape="1Gi"})"), (320.0 + 192.0) * kMi);
}

TEST(MetricsImplTest, ReportMessagesCountByKindAndResult) {
  auto metrics = Metrics::create();
  metrics->observe_report_message(state::ReportKind::kSnapshot, state::ReportResult::kApplied);
  metrics->observe_report_message(state::ReportKind::kHeartbeat, state::ReportResult::kApplied);
  metrics->observe_report_message(state::ReportKind::kHeartbeat, state::ReportResult::kApplied);
  metrics->observe_report_message(state::ReportKind::kInvalid, state::ReportResult::kRefused);
  const std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_extender_report_messages_total{kind="snapshot",result="applied"})"),
            1.0);
  EXPECT_EQ(
      sample(text, R"(epc_extender_report_messages_total{kind="heartbeat",result="applied"})"),
      2.0);
  EXPECT_EQ(sample(text, R"(epc_extender_report_messages_total{kind="invalid",result="refused"})"),
            1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_report_messages_total{kind="change",result="applied"})"),
            0.0);
}

TEST(MetricsImplTest, FilterRejectionsCountNodesByReason) {
  auto metrics = Metrics::create();
  std::array<std::uint32_t, core::kFitReasonCount> rejected{};
  rejected[static_cast<std::size_t>(core::FitReason::kInsufficientEpc)] = 3;
  rejected[static_cast<std::size_t>(core::FitReason::kStaleReport)] = 1;
  metrics->observe_filter(rejected, /*placeable=*/true);
  rejected[static_cast<std::size_t>(core::FitReason::kStaleReport)] = 0;
  rejected[static_cast<std::size_t>(core::FitReason::kNoReport)] = 2;
  metrics->observe_filter(rejected, /*placeable=*/false);
  const std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_extender_filter_rejections_total{reason="insufficient_epc"})"),
            6.0);
  EXPECT_EQ(sample(text, R"(epc_extender_filter_rejections_total{reason="stale_report"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_filter_rejections_total{reason="no_report"})"), 2.0);
  // Every reason has its series from the start (rate() needs the zero), and "fits" is none.
  EXPECT_EQ(sample(text, R"(epc_extender_filter_rejections_total{reason="unhealthy"})"), 0.0);
  EXPECT_EQ(
      sample(text,
             R"(epc_extender_filter_rejections_total{reason="insufficient_provision_slots"})"),
      0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_filter_rejections_total{reason="fits"})"), std::nullopt);
  EXPECT_EQ(sample(text, R"(epc_extender_filter_pods_total{result="placeable"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_filter_pods_total{result="unplaceable"})"), 1.0);
}

TEST(MetricsImplTest, BindAndPreemptResultsAreCounted) {
  auto metrics = Metrics::create();
  metrics->observe_bind(BindResult::kBound);
  metrics->observe_bind(BindResult::kBound);
  metrics->observe_bind(BindResult::kNoFit);
  metrics->observe_bind(BindResult::kApiRefused);
  metrics->observe_preempt(PreemptResult::kVictims, 3);
  metrics->observe_preempt(PreemptResult::kNoVictims, 0);
  metrics->observe_preempt(PreemptResult::kNotSgx, 2);
  const std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_extender_binds_total{result="bound"})"), 2.0);
  EXPECT_EQ(sample(text, R"(epc_extender_binds_total{result="no_fit"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_binds_total{result="api_refused"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_binds_total{result="api_unreachable"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_binds_total{result="invalid_request"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_binds_total{result="unavailable"})"), 0.0);
  EXPECT_EQ(sample(text, R"(epc_extender_preemptions_total{result="victims"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_preemptions_total{result="no_victims"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_extender_preemptions_total{result="not_sgx"})"), 1.0);
  EXPECT_EQ(sample(text, "epc_extender_preempt_victims_total"), 5.0);
}

TEST(MetricsImplTest, LimitHitsAreCountedByLimitEverySeriesFromTheStart) {
  auto metrics = Metrics::create();
  metrics->observe_limit(Limit::kHttpConnections);
  metrics->observe_limit(Limit::kHttpConnections);
  metrics->observe_limit(Limit::kGrpcStreamRate);
  metrics->observe_limit(Limit::kKubeWatchEvent);
  const std::string text = metrics->serialize();
  const auto hits = [&text](const char* label) {
    return sample(text,
                  std::string("epc_extender_limit_rejections_total{limit=\"") + label + "\"}");
  };
  EXPECT_EQ(hits("http_connections"), 2.0);
  EXPECT_EQ(hits("grpc_stream_rate"), 1.0);
  EXPECT_EQ(hits("kube_watch_event_size"), 1.0);
  // The labels docs/metrics.md lists, each present at 0 before any hit.
  for (const char* label :
       {"http_header_size", "http_body_size", "http_read_timeout", "http_tls_handshake",
        "grpc_streams", "grpc_stream_nodes", "kube_response_size"}) {
    EXPECT_EQ(hits(label), 0.0) << label;
  }
}

TEST(MetricsImplTest, LedgerGaugesComeFromTheSnapshotsPodTable) {
  auto metrics = Metrics::create();
  const std::int64_t now = state::monotonic_now_ns();
  auto pods = std::make_shared<state::PodTable>();
  const auto pod = [](std::string uid, core::LedgerSource source, bool epc_known) {
    return state::PodRecord{.uid = std::move(uid),
                            .namespace_name = "default/p",
                            .node = "node-a",
                            .request = {},
                            .priority = 0,
                            .bound = source != core::LedgerSource::kBind,
                            .source = source,
                            .epc_known = epc_known};
  };
  pods->add(pod("u1", core::LedgerSource::kApiWatch, true));
  pods->add(pod("u2", core::LedgerSource::kApiWatch, true));
  pods->add(pod("u3", core::LedgerSource::kBind, true));
  pods->add(pod("", core::LedgerSource::kNodeReport, false));
  pods->set_ledger_sizes({.api_pods = 4, .reservations = 1, .remembered_requests = 7});
  pods->seal();
  state::ClusterSnapshot snapshot;
  snapshot.add(info("node-a", 4), row(128 * kMi, 32 * kMi, now));
  snapshot.set_pods(pods);
  metrics->refresh_nodes(snapshot, now, core::NodeAccounting{});

  const std::string text = metrics->serialize();
  EXPECT_EQ(sample(text, R"(epc_ledger_pods{source="api_watch"})"), 2.0);
  EXPECT_EQ(sample(text, R"(epc_ledger_pods{source="bind"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_ledger_pods{source="node_report"})"), 1.0);
  EXPECT_EQ(sample(text, R"(epc_ledger_pods{source="scheduler_request"})"), 0.0);
  EXPECT_EQ(sample(text, "epc_ledger_pods_unknown_epc"), 1.0);
  EXPECT_EQ(sample(text, "epc_ledger_api_pods"), 4.0);
  EXPECT_EQ(sample(text, "epc_ledger_reservations"), 1.0);
  EXPECT_EQ(sample(text, "epc_ledger_remembered_requests"), 7.0);
}

}  // namespace
}  // namespace epc::metrics
