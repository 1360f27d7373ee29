#include "deviceplugin/live_epc_poller.h"

#include <utility>

#include "deviceplugin/sgx/misc_cgroup.h"

namespace epc::deviceplugin {

LiveEpcPoller::LiveEpcPoller(Options options, Sink sink)
    : options_(std::move(options)), sink_(std::move(sink)) {}

void LiveEpcPoller::poll_once() {
  auto live = sgx::read_live_epc(options_.root);
  if (live.ok()) {
    sink_(live->known, live->used_bytes);
  } else {
    read_errors_.fetch_add(1, std::memory_order_relaxed);
    sink_(false, 0);  // garbage now: say unknown rather than a stale number
  }
}

int LiveEpcPoller::run_until_stopped(const StopSignals& signals) {
  for (;;) {
    if (const int signal = signals.wait_for(options_.period); signal != 0) {
      return signal;
    }
    poll_once();
  }
}

}  // namespace epc::deviceplugin
