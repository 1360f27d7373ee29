#include "tests/support/process_counts.h"

#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

namespace epc::test_support {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollPeriod{20};

std::string proc_dir(pid_t pid) {
  return pid == 0 ? std::string("/proc/self") : "/proc/" + std::to_string(pid);
}

std::size_t entries(const std::string& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

std::size_t open_fd_count(pid_t pid) { return entries(proc_dir(pid) + "/fd"); }
std::size_t thread_count(pid_t pid) { return entries(proc_dir(pid) + "/task"); }

std::map<std::string, std::size_t> threads_by_name(pid_t pid) {
  std::map<std::string, std::size_t> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(proc_dir(pid) + "/task", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::ifstream comm(it->path() / "comm");
    std::string name;
    std::getline(comm, name);
    ++out[name];
  }
  return out;
}

std::string describe_threads(pid_t pid) {
  std::string out;
  for (const auto& [name, count] : threads_by_name(pid)) {
    out += (out.empty() ? "" : " ") + name + "=" + std::to_string(count);
  }
  return out;
}

ProcessCounts process_counts(pid_t pid) { return {thread_count(pid), open_fd_count(pid)}; }

ProcessCounts settled_counts(pid_t pid, std::chrono::milliseconds quiet,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ProcessCounts last = process_counts(pid);
  auto unchanged_since = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(kPollPeriod);
    const ProcessCounts now = process_counts(pid);
    if (now != last) {
      last = now;
      unchanged_since = Clock::now();
    } else if (Clock::now() - unchanged_since >= quiet) {
      break;
    }
  }
  return last;
}

ProcessCounts wait_for_counts(pid_t pid, const ProcessCounts& want,
                              std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ProcessCounts now = process_counts(pid);
  while (now != want && Clock::now() < deadline) {
    std::this_thread::sleep_for(kPollPeriod);
    now = process_counts(pid);
  }
  return now;
}

}  // namespace epc::test_support
