#pragma once

// Fakes of the interfaces the HTTP routes depend on (state and metrics), for socket-free tests.

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"

namespace epc::http::test {

class FakeClusterState : public state::ClusterState {
 public:
  explicit FakeClusterState(state::ClusterSnapshot snapshot)
      : snapshot_(std::make_shared<const state::ClusterSnapshot>(std::move(snapshot))) {}

  state::ClusterSnapshotPtr snapshot() const override { return snapshot_; }
  void apply_async(state::ReportMessage, ApplyDone done) override {
    done(common::Error{"FakeClusterState does not take reports"});
  }
  void stream_closed(const std::string&, const std::string&) override {}
  void observe(state::SchedulerObservation observation) override {
    std::lock_guard lock(mutex_);
    observations_.push_back(std::move(observation));
  }
  void apply_api_pods(state::ApiPodBatch) override {}
  void apply_api_nodes(state::ApiNodeBatch) override {}
  void api_status(state::ApiSourceStatus) override {}
  void reserve_async(state::BindRequest, ReserveDone done) override {
    done(common::Error{"FakeClusterState does not reserve"});
  }
  void cancel_reservation(state::BindRequest) override {}
  void flush() override {}

  std::vector<state::SchedulerObservation> observations() const {
    std::lock_guard lock(mutex_);
    return observations_;
  }

 private:
  state::ClusterSnapshotPtr snapshot_;
  mutable std::mutex mutex_;
  std::vector<state::SchedulerObservation> observations_;
};

class FakeMetrics : public metrics::Metrics {
 public:
  struct Observation {
    metrics::Verb verb;
    metrics::Outcome outcome;
  };
  void observe_request(metrics::Verb verb, metrics::Outcome outcome, double) override {
    std::lock_guard lock(mutex_);
    observations_.push_back({verb, outcome});
  }
  void refresh_nodes(const state::ClusterSnapshot&, std::int64_t,
                     const core::NodeAccounting&) override {}
  std::string serialize() override { return "# fake\nepc_fake_metric 1\n"; }

  std::vector<Observation> observations() const {
    std::lock_guard lock(mutex_);
    return observations_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Observation> observations_;
};

}  // namespace epc::http::test
