#include "tools/load/report_feeder.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <tuple>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "deviceplugin/report/node_change.h"
#include "deviceplugin/report/node_state_proto.h"
#include "epc/v1/node_reports.grpc.pb.h"
#include "tools/load/scheduler_request.h"

namespace epc::tools::load {

namespace {

namespace report = epc::deviceplugin::report;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kHolderEpcBytes = 16 * kMiB;
constexpr std::string_view kPluginVersion = "epc-load";
constexpr std::string_view kHolderNamespace = "load";
// A sender behind its schedule catches up by at most this much of it, then drops the rest: a
// stall of the extender must not be followed by a burst far above the planned rate.
constexpr auto kMaxBacklog = std::chrono::milliseconds(100);
// How long close() lets the extender finish the stream before cancelling it.
constexpr auto kCloseGrace = std::chrono::seconds(2);

std::string random_instance_id() {
  std::random_device device;
  std::mt19937_64 engine((static_cast<std::uint64_t>(device()) << 32) ^ device());
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string id = "load-";
  for (int i = 0; i < 12; ++i) {
    id += kHex[engine() % kHex.size()];
  }
  return id;
}

report::Holder holder(int node, std::string_view suffix) {
  report::Holder h;
  h.pod_namespace = std::string(kHolderNamespace);
  h.pod_name = "pod-" + std::to_string(node) + "-" + std::string(suffix);
  h.enclave_slots = 1;
  return h;
}

void sort_holders(std::vector<report::Holder>& holders) {
  std::sort(holders.begin(), holders.end(), [](const report::Holder& a, const report::Holder& b) {
    return std::tie(a.pod_namespace, a.pod_name) < std::tie(b.pod_namespace, b.pod_name);
  });
}

// The plugin sends holders without EPC (PodResources does not know it); ours carry it, so the
// extender's free EPC differs per node without any pod hint (see the class comment).
template <typename Holders>
void give_holders_epc(Holders& holders) {
  for (auto& h : holders) {
    h.set_epc_known(true);
    h.set_epc_bytes(kHolderEpcBytes);
  }
}

}  // namespace

FeedStats& FeedStats::operator+=(const FeedStats& other) {
  snapshots += other.snapshots;
  changes += other.changes;
  heartbeats += other.heartbeats;
  acked += other.acked;
  refused += other.refused;
  unexpected_sequence += other.unexpected_sequence;
  if (first_refusal.empty()) {
    first_refusal = other.first_refusal;
  }
  seconds += other.seconds;
  return *this;
}

FeederOptions feeder_options_for(const LoadOptions& options, std::string target) {
  FeederOptions feeder;
  feeder.target = std::move(target);
  feeder.nodes = options.nodes;
  feeder.node_prefix = options.node_prefix;
  feeder.window = options.window;
  return feeder;
}

double FeedStats::messages_per_second() const {
  return seconds > 0 ? static_cast<double>(sent()) / seconds : 0.0;
}

report::NodeState load_node_state(int index) {
  report::NodeState state;
  state.sgx_present = true;
  state.epc_capacity_bytes = (64 + static_cast<std::uint64_t>(index % 8) * 64) * kMiB;
  state.epc_sections = {{0, state.epc_capacity_bytes}};
  const auto pods = static_cast<std::uint32_t>(index % 5);
  state.enclave = {110, pods};
  state.provision = {110, 0};
  for (std::uint32_t pod = 0; pod < pods; ++pod) {
    state.holders.push_back(holder(index, std::to_string(pod)));
  }
  sort_holders(state.holders);
  state.healthy = true;
  return state;
}

void load_node_snapshot(int index, epc::v1::NodeState& out) {
  report::to_proto(load_node_state(index), out);
  give_holders_epc(*out.mutable_holders());
}

// ---------------------------------------------------------------------------------------------

struct ReportFeeder::Stream {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<epc::v1::NodeReports::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<epc::v1::NodeReport, epc::v1::Ack>> rw;
  epc::v1::NodeReport message;  // reused for every write
};

ReportFeeder::ReportFeeder(FeederOptions options) : options_(std::move(options)) {}

common::Result<std::unique_ptr<ReportFeeder>> ReportFeeder::create(FeederOptions options) {
  if (options.target.empty()) {
    return common::Error{"the feeder needs the extender's gRPC HOST:PORT"};
  }
  if (options.nodes <= 0 || options.window == 0 || options.first_node < 0) {
    return common::Error{"the feeder needs at least one node and a window of at least 1"};
  }
  if (options.instance_id.empty()) {
    options.instance_id = random_instance_id();
  }
  std::unique_ptr<ReportFeeder> feeder(new ReportFeeder(std::move(options)));
  const FeederOptions& o = feeder->options_;
  feeder->names_.reserve(static_cast<std::size_t>(o.nodes));
  feeder->states_.reserve(static_cast<std::size_t>(o.nodes));
  for (int i = o.first_node; i < o.first_node + o.nodes; ++i) {
    feeder->names_.push_back(load_node_name(o.node_prefix, i));
    feeder->states_.push_back(load_node_state(i));
  }
  feeder->extra_holder_.assign(static_cast<std::size_t>(o.nodes), false);

  auto stream = std::make_unique<Stream>();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  stream->channel = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);
  if (!stream->channel->WaitForConnected(std::chrono::system_clock::now() + o.connect_timeout)) {
    return common::Error{"cannot reach the extender's NodeReports service at " + o.target};
  }
  stream->stub = epc::v1::NodeReports::NewStub(stream->channel);
  stream->rw = stream->stub->Stream(&stream->context);
  if (!stream->rw) {
    return common::Error{"NodeReports.Stream did not open at " + o.target};
  }
  feeder->stream_ = std::move(stream);
  feeder->reader_ = std::thread([self = feeder.get()] { self->read_acks(); });
  return feeder;
}

ReportFeeder::~ReportFeeder() { (void)close(); }

void ReportFeeder::read_acks() {
  epc::v1::Ack ack;
  while (stream_->rw->Read(&ack)) {
    std::lock_guard lock(mutex_);
    // Acks come in message order: this one answers the oldest message in flight.
    const std::uint64_t expected = in_flight_.empty() ? 0 : in_flight_.front();
    if (!in_flight_.empty()) {
      in_flight_.pop_front();
    }
    ++totals_.acked;
    if (!ack.error().empty()) {
      ++totals_.refused;
      if (first_refusal_.empty()) {
        first_refusal_ = ack.error();
      }
    } else if (ack.applied_sequence() != expected) {
      ++totals_.unexpected;
    }
    acked_cv_.notify_all();
  }
  std::lock_guard lock(mutex_);
  reader_done_ = true;
  acked_cv_.notify_all();
}

ReportFeeder::Totals ReportFeeder::totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

void ReportFeeder::finish_stats(const Totals& before, FeedStats& stats) const {
  std::lock_guard lock(mutex_);
  stats.acked = totals_.acked - before.acked;
  stats.refused = totals_.refused - before.refused;
  stats.unexpected_sequence = totals_.unexpected - before.unexpected;
  stats.first_refusal = first_refusal_;
}

common::Result<bool> ReportFeeder::write(int node) {
  epc::v1::NodeReport& message = stream_->message;
  const std::uint64_t sequence = next_sequence_++;
  message.set_node_name(names_[static_cast<std::size_t>(node)]);
  message.set_instance_id(options_.instance_id);
  message.set_sequence(sequence);
  message.set_plugin_version(std::string(kPluginVersion));
  {
    std::unique_lock lock(mutex_);
    // Window room.
    if (auto room = wait_for_acks_locked(lock, options_.window - 1); !room.ok()) {
      return room;
    }
    if (reader_done_) {
      return common::Error{"the extender ended the NodeReports stream"};
    }
    // Queued before the write, so the reader never sees an Ack for a message it does not know.
    in_flight_.push_back(sequence);
  }
  if (!stream_->rw->Write(message)) {
    return common::Error{"writing to the NodeReports stream failed (stream broken)"};
  }
  return true;
}

common::Result<bool> ReportFeeder::send_snapshot(int node) {
  epc::v1::NodeReport& message = stream_->message;
  report::to_proto(states_[static_cast<std::size_t>(node)], *message.mutable_snapshot());
  give_holders_epc(*message.mutable_snapshot()->mutable_holders());
  return write(node);
}

common::Result<bool> ReportFeeder::send_heartbeat(int node) {
  stream_->message.mutable_heartbeat();
  return write(node);
}

common::Result<bool> ReportFeeder::send_change(int node) {
  const auto i = static_cast<std::size_t>(node);
  report::NodeState after = states_[i];
  const report::Holder extra = holder(options_.first_node + node, "x");
  if (extra_holder_[i]) {
    std::erase(after.holders, extra);
    after.enclave.used -= 1;
  } else {
    after.holders.push_back(extra);
    sort_holders(after.holders);
    after.enclave.used += 1;
  }
  epc::v1::NodeReport& message = stream_->message;
  epc::v1::NodeChange& change = *message.mutable_change();
  change.Clear();
  const report::ChangeDiff diff = report::diff_node_states(states_[i], after, change);
  if (!diff.expressible || diff.empty) {
    return common::Error{"node " + names_[i] + ": the holder change made no NodeChange"};
  }
  give_holders_epc(*change.mutable_holders_upserted());
  states_[i] = std::move(after);
  extra_holder_[i] = !extra_holder_[i];
  return write(node);
}

common::Result<bool> ReportFeeder::wait_for_acks_locked(std::unique_lock<std::mutex>& lock,
                                                        std::size_t max_in_flight) {
  // Each Ack must arrive within ack_timeout of the one before it while we wait.
  while (in_flight_.size() > max_in_flight && !reader_done_) {
    const std::uint64_t acked_before = totals_.acked;
    if (!acked_cv_.wait_for(lock, options_.ack_timeout,
                            [&] { return reader_done_ || totals_.acked != acked_before; })) {
      return common::Error{"no Ack from the extender for " +
                           std::to_string(options_.ack_timeout.count()) + " ms (" +
                           std::to_string(in_flight_.size()) + " messages unacknowledged)"};
    }
  }
  return true;
}

common::Result<bool> ReportFeeder::wait_all_acked() {
  std::unique_lock lock(mutex_);
  if (auto acked = wait_for_acks_locked(lock, 0); !acked.ok()) {
    return acked;
  }
  if (!in_flight_.empty()) {
    return common::Error{"the extender ended the NodeReports stream with " +
                         std::to_string(in_flight_.size()) + " messages unacknowledged"};
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

common::Result<FeedStats> ReportFeeder::register_nodes() {
  if (closed_) {
    return common::Error{"the feeder is closed"};
  }
  FeedStats stats;
  const Totals before = totals();
  const Clock::time_point start = Clock::now();
  for (int node = 0; node < options_.nodes; ++node) {
    if (auto sent = send_snapshot(node); !sent.ok()) {
      return sent.error();
    }
    ++stats.snapshots;
  }
  if (auto done = wait_all_acked(); !done.ok()) {
    return done.error();
  }
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  finish_stats(before, stats);
  return stats;
}

common::Result<FeedStats> ReportFeeder::feed(const FeedPlan& plan, const std::atomic<bool>* stop) {
  if (closed_) {
    return common::Error{"the feeder is closed"};
  }
  if (plan.rate_per_s < 0) {
    return common::Error{"the feed rate must not be negative"};
  }
  FeedStats stats;
  const Totals before = totals();
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + plan.duration;
  // Message k is due at schedule_start + k / rate.
  Clock::time_point schedule_start = start;
  std::uint64_t k = 0;
  for (;; ++k) {
    Clock::time_point now = Clock::now();
    if (now >= deadline || (stop != nullptr && stop->load(std::memory_order_relaxed))) {
      break;
    }
    if (plan.rate_per_s > 0) {
      const auto offset = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(static_cast<double>(k) / plan.rate_per_s));
      Clock::time_point due = schedule_start + offset;
      if (now - due > kMaxBacklog) {
        schedule_start += (now - due) - kMaxBacklog;
        due = now - kMaxBacklog;
      }
      if (due > now) {
        std::this_thread::sleep_until(std::min(due, deadline));
        if (Clock::now() >= deadline) {
          break;
        }
      }
    }
    const int node = next_node_;
    next_node_ = (next_node_ + 1) % options_.nodes;
    const bool change = plan.change_every > 0 && (k + 1) % plan.change_every == 0;
    auto sent = change ? send_change(node) : send_heartbeat(node);
    if (!sent.ok()) {
      return sent.error();
    }
    ++(change ? stats.changes : stats.heartbeats);
  }
  if (auto done = wait_all_acked(); !done.ok()) {
    return done.error();
  }
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  finish_stats(before, stats);
  return stats;
}

common::Result<bool> ReportFeeder::close() {
  if (closed_ || !stream_) {
    return true;
  }
  closed_ = true;
  stream_->rw->WritesDone();
  {
    std::unique_lock lock(mutex_);
    if (!acked_cv_.wait_for(lock, kCloseGrace, [&] { return reader_done_; })) {
      stream_->context.TryCancel();
    }
  }
  if (reader_.joinable()) {
    reader_.join();
  }
  const grpc::Status status = stream_->rw->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    return common::Error{"NodeReports stream ended with " + status.error_message()};
  }
  return true;
}

std::string describe_feed(std::string_view what, const FeedStats& stats) {
  char line[512];
  std::snprintf(
      line, sizeof line,
      "%.*s: %llu messages (%llu snapshots, %llu heartbeats, %llu changes) in %.2f s = "
      "%.0f/s; %llu acked, %llu refused",
      static_cast<int>(what.size()), what.data(), static_cast<unsigned long long>(stats.sent()),
      static_cast<unsigned long long>(stats.snapshots),
      static_cast<unsigned long long>(stats.heartbeats),
      static_cast<unsigned long long>(stats.changes), stats.seconds, stats.messages_per_second(),
      static_cast<unsigned long long>(stats.acked), static_cast<unsigned long long>(stats.refused));
  std::string text = line;
  if (!stats.first_refusal.empty()) {
    text += ", first: " + stats.first_refusal;
  }
  return text + "\n";
}

}  // namespace epc::tools::load
