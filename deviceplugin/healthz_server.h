#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"

namespace epc::deviceplugin {

// What /healthz answers: 200 "ok" when healthy, else 503 with the reason.
struct HealthVerdict {
  bool healthy = false;
  std::string detail;
};

// A tiny HTTP/1.0-style endpoint for liveness/readiness probes: GET /healthz -> check(); anything
// else -> 404. One connection at a time, closed after each answer, a 1 s read timeout so a stuck
// client cannot hold it: probes come every few seconds, and this keeps the plugin free of an HTTP
// stack (and of the memory one costs) for a single path.
//
// Thread-safety: port() and stop() from any thread; check() runs on the server's thread.
class HealthzServer {
 public:
  // `address` is "host:port" with a numeric IPv4 host (port 0: any free port).
  static common::Result<std::unique_ptr<HealthzServer>> create(
      const std::string& address, std::function<HealthVerdict()> check);
  ~HealthzServer();
  HealthzServer(const HealthzServer&) = delete;
  HealthzServer& operator=(const HealthzServer&) = delete;

  int port() const { return port_; }
  // Stops accepting and joins the thread. Idempotent.
  void stop();

 private:
  HealthzServer(int listen_fd, int wake_fd, int port, std::function<HealthVerdict()> check);
  void run();
  void serve(int fd);

  const int listen_fd_;
  const int wake_fd_;  // eventfd: written by stop()
  const int port_;
  const std::function<HealthVerdict()> check_;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

}  // namespace epc::deviceplugin
