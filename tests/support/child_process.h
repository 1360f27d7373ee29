#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "common/result.h"

namespace epc::test {

// A child process whose stdout and stderr go to a file the test reads: a file, not a pipe, so a
// chatty child never blocks on a full pipe while the test is busy elsewhere.
//
// Thread-safety: none; one test thread owns it. The destructor kills a child still running.
class ChildProcess {
 public:
  static common::Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                            const std::string& output_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Everything the child wrote so far.
  std::string output() const;

  // Polls the output until `ready(output)` holds; an error if the child exits first or the time
  // runs out.
  template <typename Predicate>
  common::Result<std::string> wait_for_output(Predicate ready, std::chrono::milliseconds timeout);

  // Waits for the child to exit; returns its exit status (128 + signal when killed by one), or an
  // error after `timeout` (the child is then killed).
  common::Result<int> wait(std::chrono::milliseconds timeout);

  // SIGTERM, then SIGKILL if it has not exited within `grace`. Returns the exit status.
  int terminate(std::chrono::milliseconds grace);

  bool running();

 private:
  ChildProcess(pid_t pid, std::string output_path)
      : pid_(pid), output_path_(std::move(output_path)) {}
  std::optional<int> poll_exit();

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string output_path_;
};

// A fresh directory under $TMPDIR (or /tmp) for one test's files.
std::string make_temp_dir();

template <typename Predicate>
common::Result<std::string> ChildProcess::wait_for_output(Predicate ready,
                                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::string text = output();
    if (ready(text)) {
      return text;
    }
    if (!running()) {
      return common::Error{"the child exited (status " + std::to_string(status_.value_or(-1)) +
                           ") before it printed what we waited for; output:\n" + text};
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return common::Error{"timed out waiting for the child's output; output so far:\n" + text};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace epc::test
