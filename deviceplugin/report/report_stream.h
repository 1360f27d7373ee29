#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "deviceplugin/report/extender_credentials.h"
#include "deviceplugin/report/node_state.h"

namespace epc::deviceplugin::report {

// The plugin's NodeReports stream to the extender (proto/epc/v1/node_reports.proto).
//
// One thread keeps one stream open: on connect a full ClusterSnapshot; after every update() that
// changed the node, a NodeChange with only what differs from the last message (diff_node_states; a
// full ClusterSnapshot when capacity or sections changed, or after the extender refused a message,
// so its copy is rebuilt); a Heartbeat when nothing changed for `heartbeat`. When the stream breaks
// or the extender is unreachable it reconnects with exponential backoff (backoff_initial doubling
// up to backoff_max) and ±20 % jitter, so a restarted extender is not hit by every node at once.
// Sequence numbers increase strictly within this instance_id, across reconnects. A stream with
// messages unacknowledged for 3 heartbeat periods is taken for dead and reopened (a half-open TCP
// connection would otherwise swallow reports for many minutes).
//
// update() never blocks on the network: it stores the latest snapshot and wakes the thread, so
// an unreachable or slow extender never stalls the kubelet-facing side.
//
// Thread-safety: update(), stop() and the getters from any thread.
class ReportStream {
 public:
  struct Options {
    std::string target;  // "host:port" of the extender's NodeReports service
    ExtenderTls tls;     // empty: plain text; files are read at each connection
    std::string node_name;
    std::string instance_id;  // unique per process start
    std::string plugin_version;
    std::chrono::milliseconds heartbeat{10000};
    std::chrono::milliseconds backoff_initial{200};
    std::chrono::milliseconds backoff_max{30000};
    std::function<void(const std::string&)> log;
  };

  static common::Result<std::unique_ptr<ReportStream>> create(Options options, NodeState initial);
  ~ReportStream();
  ReportStream(const ReportStream&) = delete;
  ReportStream& operator=(const ReportStream&) = delete;

  // The node's new state; sent as soon as the stream can (only when it differs from the last one).
  void update(NodeState snapshot);
  // Cancels the stream and joins the thread. Idempotent.
  void stop();

  // The highest sequence the extender acknowledged as applied (0 before any).
  std::uint64_t acked_sequence() const;
  // Streams opened so far (reconnects + 1 once connected).
  std::uint64_t connections() const;

  // For the plugin's /metrics.
  struct Stats {
    bool connected = false;              // a stream is open now
    std::uint64_t connections = 0;       // as connections()
    std::uint64_t messages_sent = 0;     // NodeReport messages written, over all streams
    std::uint64_t messages_refused = 0;  // Acks that carried an error
  };
  Stats stats() const;

  // "<16 hex digits>": a random instance id for this process.
  static std::string new_instance_id();

 private:
  struct Stream;

  ReportStream(Options options, NodeState initial);
  void run();
  // One connection's life: returns when the stream broke or stop() was called.
  void serve_stream();
  bool wait_backoff(std::chrono::milliseconds delay);
  void log(const std::string& line) const;

  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  NodeState latest_;                  // guarded by mutex_
  std::uint64_t latest_version_ = 1;  // guarded by mutex_; bumped by every real change
  bool stopping_ = false;             // guarded by mutex_
  Stream* active_ = nullptr;          // guarded by mutex_; the stream to cancel on stop()
  std::uint64_t acked_ = 0;           // guarded by mutex_
  std::uint64_t connections_ = 0;     // guarded by mutex_
  std::uint64_t messages_sent_ = 0;   // guarded by mutex_
  std::uint64_t refused_ = 0;         // guarded by mutex_
  std::uint64_t next_sequence_ = 1;   // stream thread only
  std::thread thread_;
};

}  // namespace epc::deviceplugin::report
