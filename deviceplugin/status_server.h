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

// A tiny HTTP/1.0-style endpoint for probes and Prometheus: GET /healthz -> check(), GET /metrics
// -> metrics() (text exposition format 0.0.4; 404 when no metrics function is given); anything
// else -> 404. One connection at a time, closed after each answer, a 1 s read timeout so a stuck
// client cannot hold it: probes come every few seconds and scrapes every few tens, and this keeps
// the plugin free of an HTTP stack (and of the memory one costs) for two paths.
//
// Thread-safety: port() and stop() from any thread; check() and metrics() run on the server's
// thread.
class StatusServer {
 public:
  // `address` is "host:port" with a numeric IPv4 host (port 0: any free port).
  static common::Result<std::unique_ptr<StatusServer>> create(
      const std::string& address, std::function<HealthVerdict()> check,
      std::function<std::string()> metrics = {});
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  int port() const { return port_; }
  // Stops accepting and joins the thread. Idempotent.
  void stop();

 private:
  StatusServer(int listen_fd, int wake_fd, int port, std::function<HealthVerdict()> check,
               std::function<std::string()> metrics);
  void run();
  void serve(int fd);

  const int listen_fd_;
  const int wake_fd_;  // eventfd: written by stop()
  const int port_;
  const std::function<HealthVerdict()> check_;
  const std::function<std::string()> metrics_;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

}  // namespace epc::deviceplugin
