#include "deviceplugin/report/node_state_keeper.h"

#include <utility>

namespace epc::deviceplugin::report {

NodeStateKeeper::NodeStateKeeper(NodeState initial, std::string enclave_resource,
                                 std::string provision_resource,
                                 std::function<void(const NodeState&)> on_change)
    : enclave_resource_(std::move(enclave_resource)),
      provision_resource_(std::move(provision_resource)),
      on_change_(std::move(on_change)),
      current_(std::move(initial)),
      sgx_present_(current_.sgx_present),
      unusable_reason_(current_.health_reason),
      provision_total_(current_.provision.total) {}

void NodeStateKeeper::set_holders(const std::vector<Holder>& holders) {
  std::unique_lock lock(mutex_);
  std::uint32_t enclave = 0;
  std::uint32_t provision = 0;
  for (const Holder& holder : holders) {
    enclave += holder.enclave_slots;
    provision += holder.provision_slots;
  }
  NodeState next = current_;
  next.holders = holders;
  next.enclave.used = enclave;
  next.provision.used = provision;
  if (next == current_) {
    return;
  }
  current_ = std::move(next);
  publish(lock);
}

void NodeStateKeeper::set_resource_health(const std::string& resource, bool healthy) {
  std::unique_lock lock(mutex_);
  if (resource == enclave_resource_) {
    enclave_healthy_ = healthy;
  } else if (resource == provision_resource_) {
    provision_healthy_ = healthy;
  } else {
    return;
  }
  NodeState next = current_;
  // Without /dev/sgx_provision no provisioning pod can start: advertise no provision slots, so the
  // extender still places enclave-only pods here.
  next.provision.total = provision_healthy_ ? provision_total_ : 0;
  if (!sgx_present_) {
    next.healthy = false;
    next.health_reason = unusable_reason_;
  } else if (!enclave_healthy_) {
    next.healthy = false;
    next.health_reason = "/dev/sgx_enclave missing";
  } else {
    next.healthy = true;
    next.health_reason.clear();
  }
  if (next == current_) {
    return;
  }
  current_ = std::move(next);
  publish(lock);
}

void NodeStateKeeper::set_live_epc(bool known, std::uint64_t used_bytes) {
  std::unique_lock lock(mutex_);
  if (current_.live_epc_known == known && current_.live_epc_used_bytes == used_bytes) {
    return;
  }
  current_.live_epc_known = known;
  current_.live_epc_used_bytes = known ? used_bytes : 0;
  publish(lock);
}

NodeState NodeStateKeeper::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void NodeStateKeeper::publish(std::unique_lock<std::mutex>& /*held*/) {
  // Under the lock, so concurrent changes reach the stream in the order they were made.
  if (on_change_) {
    on_change_(current_);
  }
}

}  // namespace epc::deviceplugin::report
