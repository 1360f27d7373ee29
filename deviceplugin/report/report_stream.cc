#include "deviceplugin/report/report_stream.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "deviceplugin/report/node_change.h"
#include "deviceplugin/report/node_state_proto.h"
#include "epc/v1/node_reports.grpc.pb.h"

namespace epc::deviceplugin::report {

namespace {

// How long one connection attempt waits before it counts as failed (then backoff).
constexpr auto kConnectTimeout = std::chrono::seconds(5);
// WaitForConnected is not cancellable: wait in slices so stop() is honoured promptly.
constexpr auto kConnectSlice = std::chrono::milliseconds(200);
constexpr double kJitter = 0.2;
// A stream whose messages go unacknowledged for this many heartbeat periods is taken for dead
// (a half-open TCP connection can swallow writes for many minutes) and reopened.
constexpr int kAckTimeoutHeartbeats = 3;

std::chrono::milliseconds jittered(std::chrono::milliseconds delay) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(1.0 - kJitter, 1.0 + kJitter);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(delay.count()) * factor(rng)));
}

}  // namespace

struct ReportStream::Stream {
  grpc::ClientContext context;
  bool broken = false;  // guarded by ReportStream::mutex_: the Ack reader saw the end
  // guarded by ReportStream::mutex_: the extender refused a message, so its copy of the node may
  // differ from ours; the next message is a full snapshot.
  bool resync = false;
  std::chrono::steady_clock::time_point last_ack;  // guarded by ReportStream::mutex_
};

ReportStream::ReportStream(Options options, NodeState initial)
    : options_(std::move(options)), latest_(std::move(initial)) {}

common::Result<std::unique_ptr<ReportStream>> ReportStream::create(Options options,
                                                                   NodeState initial) {
  if (options.target.empty() || options.node_name.empty() || options.instance_id.empty()) {
    return common::Error{"report stream needs a target, a node name and an instance id"};
  }
  if (options.heartbeat.count() <= 0 || options.backoff_initial.count() <= 0 ||
      options.backoff_max < options.backoff_initial) {
    return common::Error{"report stream: heartbeat and backoff must be positive, max >= initial"};
  }
  std::unique_ptr<ReportStream> out(new ReportStream(std::move(options), std::move(initial)));
  out->thread_ = std::thread([self = out.get()] { self->run(); });
  return out;
}

ReportStream::~ReportStream() { stop(); }

void ReportStream::update(NodeState snapshot) {
  std::lock_guard lock(mutex_);
  if (snapshot == latest_) {
    return;
  }
  latest_ = std::move(snapshot);
  ++latest_version_;
  wake_.notify_all();
}

void ReportStream::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (active_ != nullptr) {
      active_->context.TryCancel();  // unblocks a Write or Read in flight
    }
    wake_.notify_all();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::uint64_t ReportStream::acked_sequence() const {
  std::lock_guard lock(mutex_);
  return acked_;
}

std::uint64_t ReportStream::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

ReportStream::Stats ReportStream::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{.connected = active_ != nullptr,
               .connections = connections_,
               .messages_sent = messages_sent_,
               .messages_refused = refused_};
}

std::string ReportStream::new_instance_id() {
  std::random_device device;
  const std::uint64_t value =
      (static_cast<std::uint64_t>(device()) << 32) ^ static_cast<std::uint64_t>(device());
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// ---------------------------------------------------------------------------------------------

void ReportStream::run() {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  for (;;) {
    const std::uint64_t connections_before = connections();
    serve_stream();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
    }
    if (connections() != connections_before) {
      backoff = options_.backoff_initial;  // we were connected: start the backoff over
    }
    const std::chrono::milliseconds delay = jittered(backoff);
    log("extender " + options_.target + " not reachable or stream ended; retrying in " +
        std::to_string(delay.count()) + " ms");
    if (!wait_backoff(delay)) {
      return;
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

void ReportStream::serve_stream() {
  // A channel of its own subchannel pool: each attempt dials now, under our backoff, instead of
  // waiting out gRPC's shared reconnect backoff (which grows to minutes during an outage).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto credentials = load_connection_credentials(options_.tls);
  if (!credentials.ok()) {
    log("cannot connect to extender " + options_.target + ": " + credentials.error().message);
    return;
  }
  if (!credentials->server_name.empty()) {
    // A replica dialled by address (ReportFanout) still has to show the Service's name.
    args.SetSslTargetNameOverride(credentials->server_name);
  }
  auto channel = grpc::CreateCustomChannel(options_.target, credentials->channel, args);
  const auto connect_deadline = std::chrono::steady_clock::now() + kConnectTimeout;
  while (!channel->WaitForConnected(std::chrono::system_clock::now() + kConnectSlice)) {
    std::lock_guard lock(mutex_);
    if (stopping_ || std::chrono::steady_clock::now() >= connect_deadline) {
      return;
    }
  }
  auto stub = epc::v1::NodeReports::NewStub(channel);
  Stream stream;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    active_ = &stream;
    ++connections_;
    stream.last_ack = std::chrono::steady_clock::now();
  }
  if (!credentials->bearer_token.empty()) {
    stream.context.AddMetadata("authorization", "Bearer " + credentials->bearer_token);
  }
  auto rw = stub->Stream(&stream.context);
  log("reporting node " + options_.node_name + " to extender " + options_.target);

  std::thread reader([this, &stream, &rw] {
    epc::v1::Ack ack;
    while (rw->Read(&ack)) {
      if (!ack.error().empty()) {
        log("extender refused report: " + ack.error());
      }
      std::lock_guard lock(mutex_);
      if (!ack.error().empty()) {
        ++refused_;
        stream.resync = true;
        wake_.notify_all();
      }
      acked_ = std::max(acked_, ack.applied_sequence());
      stream.last_ack = std::chrono::steady_clock::now();
    }
    std::lock_guard lock(mutex_);
    stream.broken = true;
    wake_.notify_all();
  });

  std::uint64_t sent_version = 0;
  bool sent_snapshot = false;  // the first message on every stream is a full snapshot
  NodeState sent_state;        // what the extender has of this node after our last message
  auto last_send = std::chrono::steady_clock::now();
  std::uint64_t last_sent_sequence = 0;
  for (;;) {
    epc::v1::NodeReport message;
    {
      std::unique_lock lock(mutex_);
      const auto now = std::chrono::steady_clock::now();
      if (acked_ < last_sent_sequence &&
          now - stream.last_ack > kAckTimeoutHeartbeats * options_.heartbeat) {
        lock.unlock();
        log("extender " + options_.target + " stopped acknowledging reports: reconnecting");
        break;
      }
      wake_.wait_until(lock, last_send + options_.heartbeat, [&] {
        return stopping_ || stream.broken || stream.resync || !sent_snapshot ||
               latest_version_ != sent_version;
      });
      if (stopping_ || stream.broken) {
        break;
      }
      bool snapshot = !sent_snapshot || stream.resync;
      bool changed = false;
      if (!snapshot && latest_version_ != sent_version) {
        // Only what changed: a few bytes per Allocate instead of every holder of the node.
        const ChangeDiff diff = diff_node_states(sent_state, latest_, *message.mutable_change());
        snapshot = !diff.expressible;
        changed = !diff.empty;
        if (diff.empty) {
          message.clear_change();  // differences the extender cannot see (clamped)
        }
      }
      if (snapshot) {
        to_proto(latest_, *message.mutable_snapshot());
        sent_snapshot = true;
        stream.resync = false;
      }
      if (snapshot || changed) {
        sent_state = latest_;
        sent_version = latest_version_;
      } else if (latest_version_ != sent_version) {
        sent_version = latest_version_;
        continue;
      } else if (std::chrono::steady_clock::now() >= last_send + options_.heartbeat) {
        message.mutable_heartbeat();
      } else {
        continue;
      }
    }
    message.set_node_name(options_.node_name);
    message.set_instance_id(options_.instance_id);
    last_sent_sequence = next_sequence_++;
    message.set_sequence(last_sent_sequence);
    message.set_plugin_version(options_.plugin_version);
    if (!rw->Write(message)) {
      break;
    }
    last_send = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    ++messages_sent_;
  }
  stream.context.TryCancel();
  reader.join();
  rw->Finish();
  std::lock_guard lock(mutex_);
  active_ = nullptr;
}

bool ReportStream::wait_backoff(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void ReportStream::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  }
}

}  // namespace epc::deviceplugin::report
