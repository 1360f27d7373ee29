#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "deviceplugin/stop_signals.h"

namespace epc::deviceplugin {

// Re-reads the node's live EPC use (misc cgroup sgx_epc, sgx::read_live_epc) on the main thread
// between stop-signal waits, where the kernel offers it, and hands each reading to `sink` (the
// NodeStateKeeper, which reports it when it changed). A reading that turns to garbage is passed on
// as unknown rather than keeping a stale number.
//
// Thread-safety: one thread (main's); `sink` runs on it. read_errors() from any thread.
class LiveEpcPoller {
 public:
  using Sink = std::function<void(bool known, std::uint64_t used_bytes)>;

  struct Options {
    std::string root = "/";  // the node's filesystem root, as discovery saw it
    // How often live use is re-read: a few seconds keeps the report close to what enclaves do
    // without waking an idle plugin often.
    std::chrono::milliseconds period{5000};
  };

  LiveEpcPoller(Options options, Sink sink);

  // One reading, passed to the sink.
  void poll_once();
  // poll_once() every period until SIGINT or SIGTERM; returns the signal.
  int run_until_stopped(const StopSignals& signals);

  // Readings that failed (the cgroup files vanished or hold garbage), for the plugin's /metrics.
  std::uint64_t read_errors() const { return read_errors_.load(std::memory_order_relaxed); }

 private:
  const Options options_;
  const Sink sink_;
  std::atomic<std::uint64_t> read_errors_{0};
};

}  // namespace epc::deviceplugin
