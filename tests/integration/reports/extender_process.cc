#include "tests/integration/reports/extender_process.h"

#include <cstdlib>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace epc::test {

namespace {

// The port at the end of "epc-extender: <what> listening on host:PORT".
int port_after(std::string_view line, std::string_view marker) {
  const auto at = line.find(marker);
  if (at == std::string_view::npos) {
    return 0;
  }
  const auto colon = line.rfind(':');
  if (colon == std::string_view::npos) {
    return 0;
  }
  return std::atoi(std::string(line.substr(colon + 1)).c_str());
}

}  // namespace

common::Result<ExtenderProcess> ExtenderProcess::start(const std::string& binary,
                                                       const std::vector<std::string>& args,
                                                       std::chrono::milliseconds startup_timeout) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return common::Error{"pipe failed"};
  }
  std::vector<std::string> argv_storage{binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    return common::Error{"fork failed"};
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);

  ExtenderProcess process;
  process.pid_ = pid;
  process.stdout_fd_ = pipe_fds[0];

  const auto deadline = std::chrono::steady_clock::now() + startup_timeout;
  std::string buffer;
  while (process.http_port_ == 0 || process.grpc_port_ == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return common::Error{"epc-extender did not print its listening lines in time; got: " +
                           buffer};
    }
    pollfd fd{process.stdout_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    char chunk[512];
    const ssize_t n = read(process.stdout_fd_, chunk, sizeof chunk);
    if (n <= 0) {
      int status = 0;
      waitpid(process.pid_, &status, 0);
      process.pid_ = -1;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return common::Error{"epc-extender exited during startup with code " + std::to_string(code) +
                           "; output: " + buffer};
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n', start)) {
      const std::string_view line(buffer.data() + start, end - start);
      if (int port = port_after(line, "http listening on "); port > 0) {
        process.http_port_ = port;
      }
      if (int port = port_after(line, "grpc listening on "); port > 0) {
        process.grpc_port_ = port;
      }
      start = end + 1;
    }
    buffer.erase(0, start);
  }
  return process;
}

ExtenderProcess::ExtenderProcess(ExtenderProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      http_port_(other.http_port_),
      grpc_port_(other.grpc_port_) {}

ExtenderProcess::~ExtenderProcess() {
  if (pid_ > 0) {
    stop();
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
  }
}

int ExtenderProcess::stop() {
  if (pid_ <= 0) {
    return -1;
  }
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + WTERMSIG(status);
}

}  // namespace epc::test
