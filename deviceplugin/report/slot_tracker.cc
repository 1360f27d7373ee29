#include "deviceplugin/report/slot_tracker.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace epc::deviceplugin::report {

SlotTracker::SlotTracker(Options options, std::unique_ptr<kubelet::PodResourcesClient> client,
                         HoldersCallback on_holders)
    : options_(std::move(options)), client_(std::move(client)), on_holders_(std::move(on_holders)) {
  thread_ = std::thread([this] { run(); });
}

SlotTracker::~SlotTracker() { stop(); }

void SlotTracker::poke() {
  std::lock_guard lock(mutex_);
  poked_ = true;
  wake_.notify_all();
}

void SlotTracker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void SlotTracker::run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_poll = Clock::now() - options_.min_gap;
  bool first = true;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (!first) {
        wake_.wait_until(lock, last_poll + options_.period, [this] { return stopping_ || poked_; });
      }
      if (stopping_) {
        return;
      }
      // Respect the gap even when poked in a burst: one List answers them all.
      const Clock::time_point earliest = last_poll + options_.min_gap;
      if (Clock::now() < earliest &&
          wake_.wait_until(lock, earliest, [this] { return stopping_; })) {
        return;
      }
      poked_ = false;
    }
    first = false;
    last_poll = Clock::now();
    poll_once();
  }
}

void SlotTracker::poll_once() {
  auto pods = client_->list({options_.enclave_resource, options_.provision_resource});
  if (!pods.ok()) {
    if (pods.error().message != last_error_) {
      last_error_ = pods.error().message;
      if (options_.log) {
        options_.log("cannot list slot holders: " + last_error_);
      }
    }
    return;
  }
  last_error_.clear();
  std::vector<Holder> holders;
  for (const kubelet::PodDeviceUse& pod : *pods) {
    Holder holder;
    holder.pod_namespace = pod.pod_namespace;
    holder.pod_name = pod.pod_name;
    if (const auto it = pod.devices.find(options_.enclave_resource); it != pod.devices.end()) {
      holder.enclave_slots = it->second;
    }
    if (const auto it = pod.devices.find(options_.provision_resource); it != pod.devices.end()) {
      holder.provision_slots = it->second;
    }
    holders.push_back(std::move(holder));
  }
  std::sort(holders.begin(), holders.end(), [](const Holder& a, const Holder& b) {
    return std::tie(a.pod_namespace, a.pod_name) < std::tie(b.pod_namespace, b.pod_name);
  });
  if (last_ && *last_ == holders) {
    return;
  }
  last_ = holders;
  on_holders_(holders);
}

}  // namespace epc::deviceplugin::report
