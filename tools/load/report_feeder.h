#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "deviceplugin/report/node_state.h"
#include "tools/load/load_options.h"

namespace epc::v1 {
class NodeState;
}  // namespace epc::v1

namespace epc::tools::load {

struct FeederOptions {
  std::string target;  // "host:port" of the extender's NodeReports gRPC service
  int nodes = 5000;
  // This feeder's nodes are first_node .. first_node + nodes - 1 (a fleet split over several
  // streams, each of which may restart on its own).
  int first_node = 0;
  std::string node_prefix = "load-node-";  // node i is load_node_name(prefix, i)
  // Messages written and not yet acknowledged, at most. Keep it at or below the extender's
  // grpc.stream_max_in_flight (default 32): beyond it the extender stops reading and the rest
  // would only wait in gRPC's buffers.
  std::size_t window = 32;
  std::string instance_id;  // empty: a random one per feeder (like a plugin process start)
  std::chrono::milliseconds connect_timeout{5000};
  // Waiting for Acks longer than this without one arriving is an error (a stuck extender).
  std::chrono::milliseconds ack_timeout{10000};
};

// The feeder of epc-load's flags (--nodes, --node-prefix, --window) for the extender at `target`.
FeederOptions feeder_options_for(const LoadOptions& options, std::string target);

// What one register_nodes() or feed() sent and what the extender answered.
struct FeedStats {
  std::uint64_t snapshots = 0;
  std::uint64_t changes = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t acked = 0;                // Acks received (one per message, in order)
  std::uint64_t refused = 0;              // of which carried an error
  std::uint64_t unexpected_sequence = 0;  // accepted, but applied_sequence was not the message's
  std::string first_refusal;
  double seconds = 0;  // from the first write to the last Ack

  std::uint64_t sent() const { return snapshots + changes + heartbeats; }
  // Adds another run's counts and seconds (consecutive runs); keeps the first refusal.
  FeedStats& operator+=(const FeedStats& other);
  double messages_per_second() const;
};

// "WHAT: N messages (...) in S s = R/s; A acked, F refused[, first: ...]", one line.
std::string describe_feed(std::string_view what, const FeedStats& stats);

// How feed() paces its messages.
struct FeedPlan {
  double rate_per_s = 0;  // total messages per second over all nodes; 0 = as fast as Acks allow
  std::chrono::milliseconds duration{1000};
  // Every Nth message is a small NodeChange instead of a heartbeat (0: heartbeats only): one extra
  // slot holder (16Mi EPC, 1 enclave slot) appears on the node, and leaves it the next time.
  std::uint32_t change_every = 0;
};

// A stand-in for a fleet of epc-device-plugins on ONE NodeReports stream (proto/epc/v1): N nodes
// of uneven EPC use (as tests/bench/extender/http/bench_cluster.h: 64..512 MiB of EPC, 110 enclave
// slots, 0..4 pods of 16Mi holding one slot each), under one plugin instance id.
//
// The messages are the plugin's own (deviceplugin/report: to_proto for snapshots, diff_node_states
// for changes), with one addition: holders carry their EPC (epc_known), as a plugin on a kernel
// with EPC accounting would, so the extender's free EPC differs per node without pod hints. The
// first message of every node is its full snapshot (register_nodes()); then heartbeats and changes
// (feed()), round-robin over the nodes. Sequence numbers increase strictly over the whole stream,
// hence within every node, as the contract asks per instance.
//
// Back-pressure: the extender answers every message with an Ack, in order, once it is visible to
// filter. At most `window` messages are unacknowledged at any time, so the feeder never queues
// more than the extender reads; "as fast as Acks allow" means one window per Ack round trip.
//
// Thread-safety: create, register_nodes, feed and close from one thread; an internal thread reads
// the Acks.
class ReportFeeder {
 public:
  // Connects (within connect_timeout) and opens the stream; sends nothing yet.
  static common::Result<std::unique_ptr<ReportFeeder>> create(FeederOptions options);
  ~ReportFeeder();
  ReportFeeder(const ReportFeeder&) = delete;
  ReportFeeder& operator=(const ReportFeeder&) = delete;

  // One snapshot per node, then waits until every one is acknowledged. Refusals are counted in
  // the stats (and make the nodes unknown to the extender), not an error; a broken stream or a
  // stuck extender is.
  common::Result<FeedStats> register_nodes();

  // Heartbeats (and changes) at the planned rate for the planned time or until `stop` is set, then
  // waits for their Acks. A sender that falls behind its schedule (Acks slower than the rate)
  // catches up by at most 100 ms worth of messages: the achieved rate is in the stats.
  common::Result<FeedStats> feed(const FeedPlan& plan, const std::atomic<bool>* stop = nullptr);

  // Half-closes the stream, waits for the extender to finish it. Idempotent.
  common::Result<bool> close();

  const std::vector<std::string>& node_names() const { return names_; }
  const std::string& instance_id() const { return options_.instance_id; }

 private:
  struct Stream;
  struct Totals {
    std::uint64_t acked = 0;
    std::uint64_t refused = 0;
    std::uint64_t unexpected = 0;
  };

  explicit ReportFeeder(FeederOptions options);
  void read_acks();
  // Waits for window room, then writes one message (the next sequence).
  common::Result<bool> send_snapshot(int node);
  common::Result<bool> send_change(int node);
  common::Result<bool> send_heartbeat(int node);
  common::Result<bool> write(int node);
  common::Result<bool> wait_all_acked();
  // Waits (mutex_ held through `lock`) until at most `max_in_flight` messages are unacknowledged
  // or the stream ended; an error when no Ack comes for ack_timeout.
  common::Result<bool> wait_for_acks_locked(std::unique_lock<std::mutex>& lock,
                                            std::size_t max_in_flight);
  Totals totals() const;
  void finish_stats(const Totals& before, FeedStats& stats) const;

  FeederOptions options_;
  std::vector<std::string> names_;
  std::vector<deviceplugin::report::NodeState> states_;  // what the extender has of each node
  std::vector<bool> extra_holder_;                       // the change toggle, per node
  std::unique_ptr<Stream> stream_;
  std::uint64_t next_sequence_ = 1;  // caller thread only
  int next_node_ = 0;                // caller thread only: round-robin position of feed()
  bool closed_ = false;              // caller thread only

  mutable std::mutex mutex_;
  std::condition_variable acked_cv_;
  std::deque<std::uint64_t> in_flight_;  // guarded by mutex_: sequences written, not acknowledged
  Totals totals_;                        // guarded by mutex_
  std::string first_refusal_;            // guarded by mutex_
  bool reader_done_ = false;             // guarded by mutex_
  std::thread reader_;
};

// The node state the feeder reports for node `index` (before any change).
deviceplugin::report::NodeState load_node_state(int index);

// Its snapshot as the feeder sends it: to_proto of load_node_state(index), holders with EPC.
void load_node_snapshot(int index, epc::v1::NodeState& out);

}  // namespace epc::tools::load
