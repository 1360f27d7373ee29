#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "extender/core/fit.h"
#include "extender/http/bind_port.h"
#include "extender/kube/rest_client.h"
#include "extender/state/cluster_state.h"

namespace epc::kube {

using http::BindOutcome;

// Reserve-and-bind (the bind verb in binding mode):
//   1. the state writer re-checks, in queue order with every other bind and update, that the pod
//      still fits the node against everything bound, reserved and assumed, and reserves it there;
//   2. a worker POSTs the Binding with the pod's UID as precondition;
//   3. 201, or 409 because the pod is already on that very node (a retried bind), is success; any
//      other answer releases the reservation and fails the bind, so kube-scheduler re-queues it.
// The reservation stays until the pod watch confirms the binding, or expires after its TTL.
//
// Thread-safety: bind() from any thread; it never blocks (HTTP I/O threads call it). `done` runs on
// a worker thread or the state writer's thread and must not block.
class Binder final : public http::BindPort {
 public:
  using ClientFactory = std::function<common::Result<std::unique_ptr<RestClient>>()>;
  struct Options {
    int workers = 4;  // concurrent Binding POSTs (kube-scheduler binds in parallel)
  };

  Binder(state::ClusterState& state, ClientFactory clients, Options options);
  ~Binder() override;  // fails what is queued, joins the workers
  Binder(const Binder&) = delete;
  Binder& operator=(const Binder&) = delete;

  using Done = std::function<void(BindOutcome)>;
  void bind(state::BindRequest request, Done done) override;

 private:
  struct Job {
    state::BindRequest request;
    bool already_placed = false;
    Done done;
  };
  void run_worker();
  BindOutcome post_binding(RestClient* client, const Job& job);

  state::ClusterState& state_;
  ClientFactory clients_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::vector<std::thread> workers_;
};

// Whether namespace/name/node are safe to put into a URL path and the Binding body unescaped:
// Kubernetes object names (DNS-1123 subdomains) always are.
bool valid_object_name(std::string_view name);

}  // namespace epc::kube
