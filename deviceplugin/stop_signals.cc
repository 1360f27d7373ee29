#include "deviceplugin/stop_signals.h"

#include <cerrno>
#include <ctime>

#include <pthread.h>

namespace epc::deviceplugin {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

int StopSignals::wait() const {
  for (;;) {
    const int signal = sigwaitinfo(&signals_, nullptr);
    if (signal > 0) {
      return signal;
    }
    // EINTR: another (unblocked) signal interrupted the wait; keep waiting for ours.
  }
}

int StopSignals::wait_for(std::chrono::milliseconds timeout) const {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout - seconds);
  const timespec period{static_cast<std::time_t>(seconds.count()),
                        static_cast<long>(nanos.count())};
  const int signal = sigtimedwait(&signals_, nullptr, &period);
  return signal > 0 ? signal : 0;  // EAGAIN: timed out; EINTR: woken early, the caller goes on
}

const char* stop_signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace epc::deviceplugin
