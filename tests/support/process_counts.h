#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

#include <sys/types.h>

namespace epc::test_support {

// Resource counts of a running process from /proc, for leak checks. pid 0 means this process.
// A process that is gone counts 0 everywhere.

// Entries in /proc/PID/fd (open descriptors; for this process, including the one used to list).
std::size_t open_fd_count(pid_t pid = 0);
// Entries in /proc/PID/task (threads).
std::size_t thread_count(pid_t pid = 0);
// Threads by name (/proc/PID/task/*/comm, at most 15 characters); a thread that exits while
// being listed counts under "".
std::map<std::string, std::size_t> threads_by_name(pid_t pid = 0);
// "name=count name=count ...": for failure messages.
std::string describe_threads(pid_t pid = 0);

struct ProcessCounts {
  std::size_t threads = 0;
  std::size_t fds = 0;

  bool operator==(const ProcessCounts&) const = default;
};

ProcessCounts process_counts(pid_t pid = 0);

// The counts once they stopped changing: polls every 20 ms until they have been the same for
// `quiet`, or until `timeout` (then the last counts). For a baseline after activity, which gRPC
// winds down on its own threads (connections closing, calls being destroyed).
ProcessCounts settled_counts(pid_t pid, std::chrono::milliseconds quiet,
                             std::chrono::milliseconds timeout);

// Polls every 20 ms until the counts equal `want`, or until `timeout`; returns the last counts.
ProcessCounts wait_for_counts(pid_t pid, const ProcessCounts& want,
                              std::chrono::milliseconds timeout);

}  // namespace epc::test_support
