#include "extender/reports/node_reports_service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "extender/reports/conversion.h"
#include "extender/reports/stream_rate_limit.h"
#include "extender/reports/token_authenticator.h"
#include "extender/state/clock.h"

namespace epc::reports {

namespace {

state::ReportKind kind_of(const epc::v1::NodeReport& report) {
  switch (report.kind_case()) {
    case epc::v1::NodeReport::kSnapshot:
      return state::ReportKind::kSnapshot;
    case epc::v1::NodeReport::kChange:
      return state::ReportKind::kChange;
    case epc::v1::NodeReport::kHeartbeat:
      return state::ReportKind::kHeartbeat;
    case epc::v1::NodeReport::KIND_NOT_SET:
      break;
  }
  return state::ReportKind::kInvalid;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// One stream.
//
// gRPC calls OnReadDone/OnWriteDone/OnCancel on its threads; ClusterState calls the apply
// callbacks on its writer thread. Everything shared between them is guarded by mutex_. gRPC
// operations (StartRead, StartWrite, Finish) are started outside the lock, and Finish is always the
// last thing a function does: OnDone may delete the reactor right after it.
class NodeReportsService::Reactor final
    : public grpc::ServerBidiReactor<epc::v1::NodeReport, epc::v1::Ack> {
 public:
  Reactor(NodeReportsService& service, std::optional<StreamIdentity> identity)
      : service_(service),
        identity_(std::move(identity)),
        rate_(service.limits_.max_messages_per_second, service.limits_.burst_messages) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      on_reads_finished();
      return;
    }
    const state::ReportKind kind = kind_of(request_);
    if (!rate_.admit(state::monotonic_now_ns())) {
      end_over_rate(kind);
      return;
    }
    if (identity_expired()) {
      end_expired(kind);
      return;
    }
    auto converted = from_proto(request_);
    Actions actions;
    if (!converted.ok()) {
      observe(state::ReportKind::kInvalid, state::ReportResult::kRefused);
      std::lock_guard lock(mutex_);
      results_.emplace_back(converted.error());
      read_idle_ = true;
      plan_locked(actions);
    } else if (identity_ && converted->node_name != identity_->node) {
      // A plugin reports its own node only: another node's report is forged (or a misconfigured
      // --node-name). Refused; the stream and its own node go on.
      observe(kind, state::ReportResult::kRefused);
      service_.observe_refusal(metrics::ReportRefusal::kWrongNode);
      common::Error refusal{"report for node " + converted->node_name +
                            " refused: this stream is authenticated as node " + identity_->node +
                            " (" + identity_->subject + ") and may report for it only"};
      std::lock_guard lock(mutex_);
      results_.emplace_back(std::move(refusal));
      read_idle_ = true;
      plan_locked(actions);
    } else if (!admit_node(converted->node_name)) {
      observe(kind, state::ReportResult::kRefused);
      service_.observe_limit(metrics::Limit::kGrpcStreamNodes);
      const std::size_t limit = service_.limits_.max_nodes_per_stream;
      common::Error refusal{"report for node " + converted->node_name +
                            " refused: this stream already reports for " + std::to_string(limit) +
                            (limit == 1 ? " node" : " nodes") +
                            ", the limit (grpc.stream_max_nodes); open a stream per node"};
      std::lock_guard lock(mutex_);
      results_.emplace_back(std::move(refusal));
      read_idle_ = true;
      plan_locked(actions);
    } else {
      state::ReportMessage message = std::move(converted).value();
      remember_stream(message.node_name, message.instance_id);
      std::uint64_t ordinal = 0;
      {
        std::lock_guard lock(mutex_);
        ordinal = first_ordinal_ + results_.size();
        results_.emplace_back();
        ++applies_in_flight_;
      }
      // Queued before the next read can start, so the writer applies messages in stream order.
      service_.state_.apply_async(std::move(message),
                                  [this, kind, ordinal](common::Result<std::uint64_t> result) {
                                    on_applied(kind, ordinal, std::move(result));
                                  });
      std::lock_guard lock(mutex_);
      read_idle_ = true;
      plan_locked(actions);
    }
    run(actions);
  }

  void OnWriteDone(bool ok) override {
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      write_in_flight_ = false;
      if (!ok) {
        // The stream is broken (cancelled or the peer is gone): nothing more can be written.
        write_failed_ = true;
      }
      plan_locked(actions);
    }
    run(actions);
  }

  void OnCancel() override {
    // Pending reads and writes complete with ok = false, which drives the reactor to Finish.
  }

  void OnDone() override {
    NodeReportsService& service = service_;
    delete this;
    service.stream_done(/*served=*/true);
  }

 private:
  // gRPC operations decided under the lock and started after it is released.
  struct Actions {
    bool start_read = false;
    bool start_write = false;
    bool finish = false;
    grpc::Status status;  // of the Finish
  };

  // The message just read is over the stream's rate: it is not applied, nothing more is read, the
  // messages before it are acknowledged, then the stream ends with RESOURCE_EXHAUSTED (see the
  // class comment of NodeReportsService for why it ends rather than refuses).
  void end_over_rate(state::ReportKind kind) {
    observe(kind, state::ReportResult::kRefused);
    service_.observe_limit(metrics::Limit::kGrpcStreamRate);
    const std::string why =
        "more than " + std::to_string(service_.limits_.max_messages_per_second) +
        " messages per second (burst " + std::to_string(service_.limits_.burst_messages) +
        ") on this report stream (grpc.stream_max_rate, grpc.stream_burst)";
    // One line per ended stream (a flood costs one per stream it opens, and those are bounded by
    // grpc.max_streams and the plugin's reconnect backoff), naming the first node the stream
    // reported validly: conversion checked that name, while this message's is unchecked input.
    const std::string who = streams_.empty() ? "a stream with no valid report"
                                             : "the stream of node " + streams_.front().first;
    std::fprintf(stderr, "epc-extender reports: ending %s: %s\n", who.c_str(), why.c_str());
    {
      std::lock_guard lock(mutex_);
      finish_status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    }
    on_reads_finished();
  }

  bool identity_expired() const {
    if (!identity_ || identity_->expires_unix_s <= 0) {
      return false;
    }
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    return now_s >= identity_->expires_unix_s;
  }

  // The stream's token expired: like end_over_rate, the message is not applied and the stream
  // ends after the earlier Acks, so the plugin reconnects with the token kubelet rotated in.
  void end_expired(state::ReportKind kind) {
    observe(kind, state::ReportResult::kRefused);
    service_.observe_refusal(metrics::ReportRefusal::kExpired);
    {
      std::lock_guard lock(mutex_);
      finish_status_ = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                    "the stream's token expired; reconnect with a fresh one");
    }
    on_reads_finished();
  }

  // Whether the stream may report for `node`: one it reported for before, or a new one while it
  // reports for fewer than grpc.stream_max_nodes.
  bool admit_node(const std::string& node) {
    if (nodes_.contains(node)) {
      return true;
    }
    if (nodes_.size() >= service_.limits_.max_nodes_per_stream) {
      return false;
    }
    nodes_.insert(node);
    return true;
  }

  void on_applied(state::ReportKind kind, std::uint64_t ordinal,
                  common::Result<std::uint64_t> result) {
    observe(kind, result.ok() ? state::ReportResult::kApplied : state::ReportResult::kRefused);
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      --applies_in_flight_;
      results_[static_cast<std::size_t>(ordinal - first_ordinal_)].emplace(std::move(result));
      plan_locked(actions);
    }
    run(actions);
  }

  void on_reads_finished() {
    // The plugin is gone or half-closed: its nodes keep their state and age from here on. The
    // stream_closed notes queue behind this stream's applies, so they land after them.
    for (const auto& [node, instance] : streams_) {
      service_.state_.stream_closed(node, instance);
    }
    Actions actions;
    {
      std::lock_guard lock(mutex_);
      reads_done_ = true;
      plan_locked(actions);
    }
    run(actions);
  }

  void remember_stream(const std::string& node, const std::string& instance) {
    // One stream may carry thousands of nodes: a set, not a scan of the list, per message.
    key_.assign(node).push_back('\0');
    key_.append(instance);
    if (seen_.insert(key_).second) {
      streams_.emplace_back(node, instance);
    }
  }

  void plan_locked(Actions& actions) {
    // Acks leave in message order: the oldest result, once known, is the next write.
    if (write_failed_) {
      while (!results_.empty() && results_.front().has_value()) {
        results_.pop_front();
        ++first_ordinal_;
      }
    } else if (!write_in_flight_ && !results_.empty() && results_.front().has_value()) {
      const common::Result<std::uint64_t>& result = *results_.front();
      if (result.ok()) {
        last_applied_ = *result;
      }
      writing_ = make_ack(result, last_applied_);
      results_.pop_front();
      ++first_ordinal_;
      write_in_flight_ = true;
      actions.start_write = true;
    }
    const std::size_t unacknowledged = results_.size() + (write_in_flight_ ? 1 : 0);
    if (read_idle_ && !reads_done_ && unacknowledged < service_.limits_.max_in_flight) {
      read_idle_ = false;
      actions.start_read = true;
    }
    if (reads_done_ && applies_in_flight_ == 0 && !write_in_flight_ && results_.empty() &&
        !finished_) {
      finished_ = true;
      actions.finish = true;
      actions.status = finish_status_;
    }
  }

  void run(const Actions& actions) {
    if (actions.start_read) {
      StartRead(&request_);
    }
    if (actions.start_write) {
      StartWrite(&writing_);
    }
    if (actions.finish) {
      Finish(actions.status);  // last: OnDone may run and delete this
    }
  }

  void observe(state::ReportKind kind, state::ReportResult result) {
    if (service_.observer_) {
      service_.observer_(kind, result);
    }
  }

  NodeReportsService& service_;
  const std::optional<StreamIdentity> identity_;  // the node the stream proved (kToken, kMtls)

  // Read path only (one read outstanding at a time).
  epc::v1::NodeReport request_;
  StreamRateLimit rate_;
  std::unordered_set<std::string> nodes_;  // node names reported for (grpc.stream_max_nodes)
  std::vector<std::pair<std::string, std::string>> streams_;  // (node, instance) seen, in order
  std::unordered_set<std::string> seen_;                      // "node\0instance" of streams_
  std::string key_;                                           // remember_stream's scratch

  std::mutex mutex_;
  // One entry per message read and not yet acknowledged, in stream order; empty until its result
  // is known. The front's ordinal is first_ordinal_.
  std::deque<std::optional<common::Result<std::uint64_t>>> results_;  // guarded by mutex_
  std::uint64_t first_ordinal_ = 0;                                   // guarded by mutex_
  epc::v1::Ack writing_;               // the Ack being written; owned by the write
  std::size_t applies_in_flight_ = 0;  // guarded by mutex_
  std::uint64_t last_applied_ = 0;     // guarded by mutex_; as of the last Ack written
  bool write_in_flight_ = false;       // guarded by mutex_
  bool write_failed_ = false;          // guarded by mutex_
  // No read outstanding: the next one starts once fewer than max_in_flight messages are
  // unacknowledged (back-pressure on a fast sender).
  bool read_idle_ = false;                         // guarded by mutex_
  bool reads_done_ = false;                        // guarded by mutex_
  bool finished_ = false;                          // guarded by mutex_
  grpc::Status finish_status_ = grpc::Status::OK;  // guarded by mutex_; set before reads_done_
};

// ---------------------------------------------------------------------------------------------
// A stream over grpc.max_streams: ended at once with RESOURCE_EXHAUSTED, before anything is read
// (gRPC allows Finish in the reactor's constructor; its own FinishOnlyReactor does so).

class NodeReportsService::RefusedStream final
    : public grpc::ServerBidiReactor<epc::v1::NodeReport, epc::v1::Ack> {
 public:
  RefusedStream(NodeReportsService& service, grpc::Status status) : service_(service) {
    Finish(std::move(status));
  }

  void OnDone() override {
    NodeReportsService& service = service_;
    delete this;
    service.stream_done(/*served=*/false);
  }

 private:
  NodeReportsService& service_;
};

// ---------------------------------------------------------------------------------------------

namespace {

// Zeros would disable reading or every stream: the smallest meaningful value instead.
StreamLimits sane(StreamLimits limits) {
  limits.max_in_flight = std::max<std::size_t>(limits.max_in_flight, 1);
  limits.max_streams = std::max<std::size_t>(limits.max_streams, 1);
  limits.burst_messages = std::max<std::int64_t>(limits.burst_messages, 1);
  limits.max_nodes_per_stream = std::max<std::size_t>(limits.max_nodes_per_stream, 1);
  return limits;
}

}  // namespace

NodeReportsService::NodeReportsService(state::ClusterState& state, StreamLimits limits,
                                       MessageObserver observer, LimitObserver limit_observer,
                                       IdentityOptions identity)
    : state_(state),
      limits_(sane(limits)),
      observer_(std::move(observer)),
      limit_observer_(std::move(limit_observer)),
      identity_(std::move(identity)) {}

grpc::ServerBidiReactor<epc::v1::NodeReport, epc::v1::Ack>* NodeReportsService::Stream(
    grpc::CallbackServerContext* context) {
  std::optional<StreamIdentity> identity;
  if (identity_.mode != IdentityMode::kNone) {
    grpc::Status refusal;
    identity = identify(*context, refusal);
    if (!identity) {
      {
        std::lock_guard lock(mutex_);
        ++reactors_;
      }
      return new RefusedStream(*this, std::move(refusal));
    }
  }
  bool refuse = false;
  {
    std::lock_guard lock(mutex_);
    ++reactors_;
    refuse = served_ >= limits_.max_streams;
    served_ += refuse ? 0 : 1;
  }
  if (refuse) {
    observe_limit(metrics::Limit::kGrpcStreams);
    return new RefusedStream(
        *this, grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "too many report streams open (grpc.max_streams " +
                                std::to_string(limits_.max_streams) + "); retry later"));
  }
  return new Reactor(*this, std::move(identity));
}

std::optional<StreamIdentity> NodeReportsService::identify(grpc::CallbackServerContext& context,
                                                           grpc::Status& refusal) const {
  if (identity_.mode == IdentityMode::kToken) {
    // gRPC ran the TokenAuthenticator on this call's token before the call got here; find the
    // node of this call's own token (not of the connection: see TokenAuthenticator).
    const auto& metadata = context.client_metadata();
    const auto it = metadata.find("authorization");
    std::optional<StreamIdentity> identity;
    if (it != metadata.end() && identity_.authenticator != nullptr) {
      identity =
          identity_.authenticator->identity(std::string_view(it->second.data(), it->second.size()));
    }
    if (!identity) {
      // Accepted a moment ago and gone from the cache since (evicted by a flood of new tokens).
      observe_refusal(metrics::ReportRefusal::kReviewFailed);
      refusal = grpc::Status(grpc::StatusCode::UNAVAILABLE, "token check lost; retry");
    }
    return identity;
  }
  // kMtls: gRPC verified the certificate against grpc.tls.client_ca_file in the handshake.
  const auto auth = context.auth_context();
  std::optional<std::string> node;
  std::string common_name;
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const auto& value : auth->FindPropertyValues("x509_common_name")) {
      common_name.assign(value.data(), value.size());
      node = node_of_common_name(common_name);
      break;
    }
  }
  if (!node) {
    observe_refusal(metrics::ReportRefusal::kNoNode);
    refusal = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                           "the client certificate (CN \"" + common_name.substr(0, 100) +
                               "\") names no node: it must be CN=system:node:<node name>");
    return std::nullopt;
  }
  return StreamIdentity{*node, "certificate CN=" + common_name, 0};
}

void NodeReportsService::observe_refusal(metrics::ReportRefusal reason) const {
  if (identity_.observer) {
    identity_.observer(reason);
  }
}

void NodeReportsService::stream_done(bool served) {
  std::lock_guard lock(mutex_);
  served_ -= served ? 1 : 0;
  if (--reactors_ == 0) {
    idle_cv_.notify_all();
  }
}

void NodeReportsService::observe_limit(metrics::Limit limit) const {
  if (limit_observer_) {
    limit_observer_(limit);
  }
}

void NodeReportsService::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [this] { return reactors_ == 0; });
}

std::size_t NodeReportsService::active_streams() const {
  std::lock_guard lock(mutex_);
  return served_;
}

}  // namespace epc::reports
