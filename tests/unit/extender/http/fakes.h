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
  explicit FakeClusterState(state::Snapshot snapshot)
      : snapshot_(std::make_shared<const state::Snapshot>(std::move(snapshot))) {}

  state::SnapshotPtr snapshot() const override { return snapshot_; }
  void apply_async(state::ReportMessage, ApplyDone done) override {
    done(core::Error{"FakeClusterState does not take reports"});
  }
  void stream_closed(const std::string&, const std::string&) override {}
  void note_pod_request(const core::PodKey& pod, const core::PodRequest& request) override {
    std::lock_guard lock(mutex_);
    notes_.emplace_back(pod, request);
  }
  void flush() override {}

  std::vector<std::pair<core::PodKey, core::PodRequest>> notes() const {
    std::lock_guard lock(mutex_);
    return notes_;
  }

 private:
  state::SnapshotPtr snapshot_;
  mutable std::mutex mutex_;
  std::vector<std::pair<core::PodKey, core::PodRequest>> notes_;
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
  void refresh_nodes(const state::Snapshot&, std::int64_t, const core::NodeAccounting&) override {}
  std::string serialize() const override { return "# fake\nepc_fake_metric 1\n"; }

  std::vector<Observation> observations() const {
    std::lock_guard lock(mutex_);
    return observations_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Observation> observations_;
};

}  // namespace epc::http::test
