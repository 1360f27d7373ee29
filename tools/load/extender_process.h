#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/result.h"

namespace epc::tools::load {

// A real epc-extender started as a child process, for measuring it from outside.
//
// Its stdout and stderr go to a file (never a pipe, so a chatty child cannot block on a full pipe
// while we are busy measuring). The listening ports are read from its startup lines
// ("epc-extender: http listening on 127.0.0.1:PORT", "... grpc listening on ..."), which it prints
// with the bound port when it was given port 0.
//
// Thread-safety: none; one owner. The destructor stops a child still running (SIGTERM, then
// SIGKILL after a grace period) and reaps it; nothing else is ever signalled.
class ExtenderProcess {
 public:
  // Starts `binary` with `args`, waits until both listening lines are printed.
  static common::Result<ExtenderProcess> start(const std::string& binary,
                                               const std::vector<std::string>& args,
                                               const std::string& output_path,
                                               std::chrono::milliseconds startup_timeout);
  // The same, its output in a temporary file removed with the object (tests: read it through
  // output() when something fails).
  static common::Result<ExtenderProcess> start(const std::string& binary,
                                               const std::vector<std::string>& args,
                                               std::chrono::milliseconds startup_timeout);
  ExtenderProcess(ExtenderProcess&& other) noexcept;
  ExtenderProcess& operator=(ExtenderProcess&&) = delete;
  ExtenderProcess(const ExtenderProcess&) = delete;
  ExtenderProcess& operator=(const ExtenderProcess&) = delete;
  ~ExtenderProcess();

  pid_t pid() const { return pid_; }
  std::uint16_t http_port() const { return http_port_; }
  std::uint16_t grpc_port() const { return grpc_port_; }

  // User + system CPU time the process used so far (utime + stime of /proc/<pid>/stat, all its
  // threads), in seconds.
  common::Result<double> cpu_seconds() const;

  // Everything the child wrote so far.
  std::string output() const;

  // SIGTERM to this child's PID, then SIGKILL if it has not exited within `grace`; reaps it.
  // Returns the exit status (128 + signal when killed by one); -1 when not running.
  int terminate(std::chrono::milliseconds grace);

 private:
  ExtenderProcess(pid_t pid, std::string output_path)
      : pid_(pid), output_path_(std::move(output_path)) {}

  pid_t pid_ = -1;
  std::string output_path_;
  bool remove_output_ = false;  // the file is ours (the temporary-file start)
  std::uint16_t http_port_ = 0;
  std::uint16_t grpc_port_ = 0;
};

// Parses the utime + stime fields of a /proc/<pid>/stat line, in clock ticks.
common::Result<std::uint64_t> cpu_ticks_of_stat(const std::string& stat_line);

}  // namespace epc::tools::load
