#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "deviceplugin/report/node_state.h"

namespace epc::deviceplugin::report {

// The node's current NodeState, assembled from the pieces that change at runtime: slot
// holders (SlotTracker), per-resource health (PluginSupervisor), live EPC use. Every change that
// alters the snapshot is handed to `on_change` (the ReportStream's update()).
//
// Thread-safety: all functions from any thread. on_change runs on the caller's thread under the
// keeper's lock (so changes arrive in order): it must not block nor call back into the keeper.
class NodeStateKeeper {
 public:
  NodeStateKeeper(NodeState initial, std::string enclave_resource, std::string provision_resource,
                  std::function<void(const NodeState&)> on_change);

  // Holders and the used-slot counts they add up to.
  void set_holders(const std::vector<Holder>& holders);
  // One resource's slot health. The node is unhealthy while enclave slots are (nothing SGX can
  // run); unhealthy provision slots only take the provision slots away (total 0).
  void set_resource_health(const std::string& resource, bool healthy);
  void set_live_epc(bool known, std::uint64_t used_bytes);

  NodeState snapshot() const;

 private:
  void publish(std::unique_lock<std::mutex>& lock);

  const std::string enclave_resource_;
  const std::string provision_resource_;
  const std::function<void(const NodeState&)> on_change_;
  mutable std::mutex mutex_;
  NodeState current_;              // guarded by mutex_
  bool enclave_healthy_ = true;    // guarded by mutex_
  bool provision_healthy_ = true;  // guarded by mutex_
  const bool sgx_present_;
  const std::string unusable_reason_;
  const std::uint32_t provision_total_;
};

}  // namespace epc::deviceplugin::report
