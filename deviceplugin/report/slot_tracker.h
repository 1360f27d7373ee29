#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deviceplugin/kubelet/pod_resources_client.h"
#include "deviceplugin/report/node_state.h"

namespace epc::deviceplugin::report {

// Who holds this node's slots, from kubelet's PodResources List (spec §9): polled every `period`
// and soon after poke() (called after each Allocate), never more often than `min_gap` apart —
// kubelet rate-limits List to 100/s with a burst of 10, and many Allocates in a burst need one
// List. Slots freed by finished pods appear only here.
//
// `on_holders` runs on the tracker's thread after every successful List whose holders differ from
// the previous one (the first success always), with holders sorted by namespace/name. Failures are
// logged once per distinct error; the last holders stay in force.
//
// Thread-safety: poke() and stop() from any thread.
class SlotTracker {
 public:
  struct Options {
    std::string enclave_resource;
    std::string provision_resource;
    std::chrono::milliseconds period{10000};
    std::chrono::milliseconds min_gap{200};
    std::function<void(const std::string&)> log;
  };
  using HoldersCallback = std::function<void(const std::vector<Holder>&)>;

  SlotTracker(Options options, std::unique_ptr<kubelet::PodResourcesClient> client,
              HoldersCallback on_holders);
  ~SlotTracker();
  SlotTracker(const SlotTracker&) = delete;
  SlotTracker& operator=(const SlotTracker&) = delete;

  void poke();
  void stop();

 private:
  void run();
  void poll_once();

  const Options options_;
  std::unique_ptr<kubelet::PodResourcesClient> client_;
  const HoldersCallback on_holders_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool poked_ = false;                       // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::optional<std::vector<Holder>> last_;  // tracker thread only
  std::string last_error_;                   // tracker thread only
  std::thread thread_;
};

}  // namespace epc::deviceplugin::report
