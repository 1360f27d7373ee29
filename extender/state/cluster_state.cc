#include "extender/state/cluster_state.h"

#include <future>
#include <utility>

#include "extender/state/cluster_state_impl.h"

namespace epc::state {

std::unique_ptr<ClusterState> ClusterState::create(Options options) {
  return std::make_unique<ClusterStateImpl>(std::move(options));
}

common::Result<std::uint64_t> ClusterState::apply(ReportMessage message) {
  std::promise<common::Result<std::uint64_t>> promise;
  auto future = promise.get_future();
  apply_async(std::move(message), [&promise](common::Result<std::uint64_t> result) {
    promise.set_value(std::move(result));
  });
  return future.get();
}

}  // namespace epc::state
