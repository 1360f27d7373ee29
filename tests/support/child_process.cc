#include "tests/support/child_process.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace epc::test {

namespace {

int exit_code(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

common::Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                 const std::string& output_path) {
  if (argv.empty()) {
    return common::Error{"no program to run"};
  }
  const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    return common::Error{"open " + output_path + ": " + std::strerror(errno)};
  }
  // Build argv before fork: the child may only call async-signal-safe functions.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    return common::Error{std::string("fork: ") + std::strerror(errno)};
  }
  if (pid == 0) {
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out);
  return ChildProcess(pid, output_path);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), status_(other.status_), output_path_(std::move(other.output_path_)) {
  other.pid_ = -1;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    terminate(std::chrono::milliseconds(2000));
  }
}

std::string ChildProcess::output() const {
  std::ifstream in(output_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<int> ChildProcess::poll_exit() {
  if (status_ || pid_ <= 0) {
    return status_;
  }
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    status_ = exit_code(status);
  }
  return status_;
}

bool ChildProcess::running() { return pid_ > 0 && !poll_exit(); }

common::Result<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      terminate(std::chrono::milliseconds(2000));
      return common::Error{"the child did not exit within " + std::to_string(timeout.count()) +
                           " ms; output:\n" + output()};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_.value_or(-1);
}

int ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (!running()) {
    return status_.value_or(-1);
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = exit_code(status);
  }
  return status_.value_or(-1);
}

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/epc-demo-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return "/tmp";
  }
  return pattern;
}

}  // namespace epc::test
