#include "deviceplugin/kubelet/plugin_server.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace epc::deviceplugin::kubelet {

namespace {

// Kubelet's requests are a few hundred bytes (ids of one container); anything far bigger is not
// kubelet and is refused before parsing.
constexpr int kMaxRequestBytes = 1024 * 1024;

}  // namespace

PluginServer::PluginServer(std::unique_ptr<DevicePluginService> service, std::string socket_path)
    : service_(std::move(service)), socket_path_(std::move(socket_path)) {}

common::Result<std::unique_ptr<PluginServer>> PluginServer::create(
    const std::string& device_plugin_dir, const PluginSettings& settings, bool healthy,
    DevicePluginService::Callbacks callbacks) {
  if (auto valid = validate(settings, device_plugin_dir); !valid.ok()) {
    return valid.error();
  }
  const std::string path = join_path(device_plugin_dir, settings.socket_name);
  // A socket left by an earlier run (or an earlier server of ours) would make bind() fail.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return common::Error{"cannot remove stale " + path + ": " + std::strerror(errno)};
  }
  auto service = std::make_unique<DevicePluginService>(settings, healthy, std::move(callbacks));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  service->attach(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return common::Error{"cannot listen on " + path + " (directory missing or not writable?)"};
  }
  service->start();
  std::unique_ptr<PluginServer> out(new PluginServer(std::move(service), path));
  out->server_ = std::move(server);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    // Deleted between bind and now (kubelet starting up): report it; the caller serves again.
    const int err = errno;
    out->shutdown();
    return common::Error{"socket " + path +
                         " vanished right after listening: " + std::strerror(err)};
  }
  out->socket_dev_ = st.st_dev;
  out->socket_ino_ = st.st_ino;
  return out;
}

PluginServer::~PluginServer() { shutdown(); }

void PluginServer::shutdown() {
  if (server_ == nullptr) {
    return;
  }
  service_->begin_shutdown();
  // ListAndWatch never ends by itself: a deadline of "now" cancels the open streams at once.
  server_->Shutdown(std::chrono::system_clock::now());
  // gRPC wants the server shut down before its completion queue.
  service_->stop();
  server_->Wait();
  server_.reset();
}

bool PluginServer::socket_intact() const {
  struct stat st {};
  if (::lstat(socket_path_.c_str(), &st) != 0) {
    return false;
  }
  return S_ISSOCK(st.st_mode) && st.st_dev == socket_dev_ && st.st_ino == socket_ino_;
}

}  // namespace epc::deviceplugin::kubelet
