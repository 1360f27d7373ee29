#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

#include "epc/v1/node_reports.grpc.pb.h"
#include "extender/state/cluster_state.h"

namespace epc::reports {

// The NodeReports gRPC service on gRPC's callback API: each stream is a reactor driven by gRPC's
// own threads, so thousands of plugin streams need no thread each.
//
// Per stream: every message is converted and validated (an invalid one gets an error Ack and the
// stream stays open), then queued to ClusterState::apply_async; its Ack is written from the done
// callback. Acks leave in message order, one write outstanding at a time (an invalid message's
// error Ack waits for the Acks of the messages before it), and at most `max_in_flight` messages
// per stream are unacknowledged before the stream stops reading, so a fast sender cannot queue
// unbounded work. When the stream ends (plugin closes, disconnects or is
// cancelled), ClusterState::stream_closed is told for each node/instance the stream reported.
//
// Lifetime: `state` must outlive the service; wait_idle() returns once every stream is done.
class NodeReportsService final : public epc::v1::NodeReports::CallbackService {
 public:
  // What happened to each received message (state::ReportKind/ReportResult), for metrics.
  using MessageObserver = std::function<void(state::ReportKind, state::ReportResult)>;

  NodeReportsService(state::ClusterState& state, std::size_t max_in_flight,
                     MessageObserver observer = {});

  // epc::v1::NodeReports::CallbackService
  grpc::ServerBidiReactor<epc::v1::NodeReport, epc::v1::Ack>* Stream(
      grpc::CallbackServerContext* context) override;

  // Blocks until no stream is active (after the server was shut down).
  void wait_idle();

  std::size_t active_streams() const;

 private:
  class Reactor;

  void stream_done();

  state::ClusterState& state_;
  const std::size_t max_in_flight_;
  const MessageObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::size_t active_ = 0;  // guarded by mutex_
};

}  // namespace epc::reports
