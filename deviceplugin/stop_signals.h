#pragma once

#include <chrono>

#include <signal.h>

namespace epc::deviceplugin {

// SIGINT and SIGTERM, taken by waiting rather than by a handler. The constructor blocks both in the
// calling thread; threads created afterwards (gRPC's included) inherit the mask, so the signals
// stay pending until wait() or wait_for() takes them. Construct it first thing in main's thread,
// before any other thread exists.
//
// Thread-safety: wait() and wait_for() from the constructing thread only.
class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until SIGINT or SIGTERM arrives; returns it.
  int wait() const;
  // The same, but gives up after `timeout`: returns 0 then.
  int wait_for(std::chrono::milliseconds timeout) const;

 private:
  sigset_t signals_;
};

// "SIGINT" / "SIGTERM" for the log ("a signal" for anything else).
const char* stop_signal_name(int signal);

}  // namespace epc::deviceplugin
