#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "epc/v1/node_reports.grpc.pb.h"
#include "extender/metrics/limit.h"
#include "extender/metrics/report_refusal.h"
#include "extender/reports/stream_identity.h"
#include "extender/state/cluster_state.h"

namespace epc::reports {

class TokenAuthenticator;

// A report or stream refused for its identity. Any thread.
using ReportRefusalObserver = std::function<void(metrics::ReportRefusal)>;

// How NodeReportsService binds streams to nodes (see its class comment).
struct StreamIdentityOptions {
  IdentityMode mode = IdentityMode::kNone;
  // kToken: the processor gRPC runs before each call (it must outlive the service).
  TokenAuthenticator* authenticator = nullptr;
  ReportRefusalObserver observer;
};

// The bounds of the report side (docs/operations.md, "Bounds"; ExtenderConfig explains each
// default). What exceeding each one does is in the class comment below.
struct StreamLimits {
  std::size_t max_in_flight = 32;  // unacknowledged messages per stream before reading pauses
  std::size_t max_streams = 10000;
  std::int64_t max_messages_per_second = 50;  // 0: no limit
  std::int64_t burst_messages = 500;
  std::size_t max_nodes_per_stream = 1;
};

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
// Bounds, each counted through the LimitObserver:
// - max_streams: a stream opened while that many are open ends at once with RESOURCE_EXHAUSTED
//   (the plugin reconnects with backoff); the open ones are untouched.
// - max_messages_per_second / burst_messages: a token bucket per stream (StreamRateLimit). The
//   first message over it is not applied; the stream stops reading, acknowledges what it had
//   read before, and ends with RESOURCE_EXHAUSTED naming the limit. Ending the stream, rather
//   than an error Ack, because a plugin answers an error Ack with an immediate full snapshot, so
//   refusals on an open stream would only turn a flood into a snapshot storm; a new stream comes
//   after the plugin's backoff and starts with a snapshot, so nothing is lost.
// - max_nodes_per_stream: a valid report for a node beyond the first that many the stream
//   reported for gets an error Ack and changes nothing; the stream and its nodes go on.
//
// Node identity (IdentityOptions; docs/security.md): with kToken or kMtls a stream is bound, when
// it opens, to the node its credential proves (TokenAuthenticator for tokens, the verified client
// certificate's CN "system:node:<node>" for mTLS); a stream whose credential names no node is
// ended at once (PERMISSION_DENIED). A valid report for any other node gets an error Ack naming
// both nodes and changes nothing; the stream and its node go on. A stream whose token expired
// ends (UNAUTHENTICATED) at its next message, so the plugin reconnects with its rotated token.
// Each refusal is counted through the RefusalObserver.
//
// Lifetime: `state` must outlive the service; wait_idle() returns once every stream is done.
class NodeReportsService final : public epc::v1::NodeReports::CallbackService {
 public:
  // What happened to each received message (state::ReportKind/ReportResult), for metrics.
  using MessageObserver = std::function<void(state::ReportKind, state::ReportResult)>;
  // A bound hit (metrics::Limit::kGrpcStreams, kGrpcStreamRate, kGrpcStreamNodes). Any thread.
  using LimitObserver = std::function<void(metrics::Limit)>;

  using RefusalObserver = ReportRefusalObserver;
  using IdentityOptions = StreamIdentityOptions;

  NodeReportsService(state::ClusterState& state, StreamLimits limits, MessageObserver observer = {},
                     LimitObserver limit_observer = {}, IdentityOptions identity = {});

  // epc::v1::NodeReports::CallbackService
  grpc::ServerBidiReactor<epc::v1::NodeReport, epc::v1::Ack>* Stream(
      grpc::CallbackServerContext* context) override;

  // Blocks until no stream is active (after the server was shut down).
  void wait_idle();

  // Streams being served now (refused ones not included).
  std::size_t active_streams() const;

 private:
  class Reactor;
  class RefusedStream;

  void stream_done(bool served);
  void observe_limit(metrics::Limit limit) const;
  void observe_refusal(metrics::ReportRefusal reason) const;
  // The node `context`'s credential proves (kToken, kMtls); nullopt with `refusal` set (and
  // counted) when it proves none.
  std::optional<StreamIdentity> identify(grpc::CallbackServerContext& context,
                                         grpc::Status& refusal) const;

  state::ClusterState& state_;
  const StreamLimits limits_;
  const MessageObserver observer_;
  const LimitObserver limit_observer_;
  const IdentityOptions identity_;
  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::size_t reactors_ = 0;  // guarded by mutex_: every reactor not yet done, refused ones too
  std::size_t served_ = 0;    // guarded by mutex_: of which streams being served
};

}  // namespace epc::reports
