#pragma once

#include <memory>
#include <string>

#include <sys/types.h>

#include "common/result.h"
#include "deviceplugin/kubelet/device_plugin_service.h"
#include "deviceplugin/kubelet/plugin_settings.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace epc::deviceplugin::kubelet {

// One resource's DevicePlugin gRPC server on its unix socket <device_plugin_dir>/<socket_name>.
//
// create() removes a stale file at the socket path, listens and starts serving before it returns,
// so kubelet can dial back during Register. shutdown() (also the destructor) cancels open
// ListAndWatch streams, waits for them and stops the server; it is what a kubelet restart calls
// for before the next create() (spec §6.3: never two live registrations of one resource).
//
// Thread-safety: service() and socket_intact() from any thread; shutdown() from one thread.
class PluginServer {
 public:
  static common::Result<std::unique_ptr<PluginServer>> create(
      const std::string& device_plugin_dir, const PluginSettings& settings, bool healthy,
      DevicePluginService::Callbacks callbacks);
  ~PluginServer();

  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  void shutdown();

  DevicePluginService& service() { return *service_; }
  const std::string& socket_path() const { return socket_path_; }

  // True while the socket file this server created is still at its path (same device and inode):
  // false once kubelet deleted it, or something else replaced it.
  bool socket_intact() const;

 private:
  PluginServer(std::unique_ptr<DevicePluginService> service, std::string socket_path);

  std::unique_ptr<DevicePluginService> service_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
  std::string socket_path_;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
};

}  // namespace epc::deviceplugin::kubelet
