#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace epc::tools::standins {

// A pod as PodResources v1 lists it: name, namespace, and per container the device ids it holds
// per resource.
struct ListedPod {
  struct Container {
    std::string name;
    std::vector<std::pair<std::string, std::vector<std::string>>> devices;  // resource -> ids
  };
  std::string name;
  std::string namespace_name;
  std::vector<Container> containers;
};

// A stand-in for kubelet's PodResources v1 server (spec §9) on a unix socket: List answers the pods
// set by set_pods(), GetAllocatableResources the devices set by set_allocatable(), Get finds one
// pod by name and namespace (NOT_FOUND otherwise).
//
// Thread-safety: all public functions may be called from any thread.
class PodResourcesStandin {
 public:
  explicit PodResourcesStandin(std::string socket_path);
  ~PodResourcesStandin();
  PodResourcesStandin(const PodResourcesStandin&) = delete;
  PodResourcesStandin& operator=(const PodResourcesStandin&) = delete;

  common::Result<std::monostate> start();
  void stop();

  void set_pods(std::vector<ListedPod> pods);
  void set_allocatable(const std::string& resource, std::vector<std::string> ids);
  std::size_t list_calls() const;

  const std::string& socket_path() const { return socket_path_; }

 private:
  class Service;
  struct State;

  const std::string socket_path_;
  std::unique_ptr<State> state_;      // outlives every server
  std::unique_ptr<Service> service_;  // one per server: gRPC registers a service once
  std::unique_ptr<grpc::Server> server_;
  std::mutex server_mutex_;
};

}  // namespace epc::tools::standins
