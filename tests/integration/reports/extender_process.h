#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/result.h"

namespace epc::test {

// A real epc-extender process for end-to-end tests: started with the given flags, its stdout read
// until both "listening" lines appear (the bound ports when the flags ask for port 0), stopped
// with SIGTERM by stop() or the destructor.
class ExtenderProcess {
 public:
  static common::Result<ExtenderProcess> start(const std::string& binary,
                                               const std::vector<std::string>& args,
                                               std::chrono::milliseconds startup_timeout);
  ExtenderProcess(ExtenderProcess&& other) noexcept;
  ExtenderProcess& operator=(ExtenderProcess&&) = delete;
  ExtenderProcess(const ExtenderProcess&) = delete;
  ~ExtenderProcess();

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }

  // SIGTERM, then waits for the exit. Returns the exit code (or 128 + signal when killed).
  int stop();

 private:
  ExtenderProcess() = default;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int http_port_ = 0;
  int grpc_port_ = 0;
};

}  // namespace epc::test
