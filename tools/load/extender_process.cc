#include "tools/load/extender_process.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace epc::tools::load {

namespace {

// The port at the end of the line holding `marker` ("... listening on host:PORT").
std::uint16_t port_after(std::string_view output, std::string_view marker) {
  const auto at = output.find(marker);
  if (at == std::string_view::npos) {
    return 0;
  }
  const auto end = output.find('\n', at);
  if (end == std::string_view::npos) {
    return 0;  // the line is not complete yet
  }
  const std::string_view line = output.substr(at, end - at);
  const auto colon = line.rfind(':');
  if (colon == std::string_view::npos) {
    return 0;
  }
  const int port = std::atoi(std::string(line.substr(colon + 1)).c_str());
  return port > 0 && port < 65536 ? static_cast<std::uint16_t>(port) : 0;
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

common::Result<std::uint64_t> cpu_ticks_of_stat(const std::string& stat_line) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted from
  // the last ')'. After it come field 3 (state) onwards; utime and stime are fields 14 and 15.
  const auto paren = stat_line.rfind(')');
  if (paren == std::string::npos) {
    return common::Error{"malformed /proc stat line"};
  }
  std::istringstream fields(stat_line.substr(paren + 1));
  std::string field;
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) {
      utime = std::strtoull(field.c_str(), nullptr, 10);
    } else if (index == 15) {
      stime = std::strtoull(field.c_str(), nullptr, 10);
      return utime + stime;
    }
  }
  return common::Error{"/proc stat line has fewer than 15 fields"};
}

common::Result<ExtenderProcess> ExtenderProcess::start(const std::string& binary,
                                                       const std::vector<std::string>& args,
                                                       const std::string& output_path,
                                                       std::chrono::milliseconds startup_timeout) {
  if (access(binary.c_str(), X_OK) != 0) {
    return common::Error{binary + " is not an executable file"};
  }
  const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    return common::Error{"cannot create " + output_path + ": " + std::strerror(errno)};
  }
  std::vector<std::string> storage{binary};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    ::close(out);
    return common::Error{std::string("fork failed: ") + std::strerror(errno)};
  }
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  ::close(out);

  ExtenderProcess process(pid, output_path);
  const auto deadline = std::chrono::steady_clock::now() + startup_timeout;
  for (;;) {
    const std::string text = process.output();
    process.http_port_ = port_after(text, "http listening on ");
    process.grpc_port_ = port_after(text, "grpc listening on ");
    if (process.http_port_ != 0 && process.grpc_port_ != 0) {
      return process;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      process.pid_ = -1;
      return common::Error{"epc-extender exited during startup with code " +
                           std::to_string(exit_code(status)) + "; output:\n" + process.output()};
    }
    if (std::chrono::steady_clock::now() > deadline) {
      process.terminate(std::chrono::milliseconds(2000));
      return common::Error{"epc-extender did not print its listening lines within " +
                           std::to_string(startup_timeout.count()) + " ms; output:\n" + text};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

common::Result<ExtenderProcess> ExtenderProcess::start(const std::string& binary,
                                                       const std::vector<std::string>& args,
                                                       std::chrono::milliseconds startup_timeout) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") +
                     "/epc-extender-output-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) {
    return common::Error{"cannot create a temporary file in " + path + ": " + std::strerror(errno)};
  }
  ::close(fd);
  auto started = start(binary, args, path, startup_timeout);
  if (!started.ok()) {
    ::unlink(path.c_str());
    return started;
  }
  ExtenderProcess process = std::move(started).value();
  process.remove_output_ = true;
  return process;
}

ExtenderProcess::ExtenderProcess(ExtenderProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_path_(std::move(other.output_path_)),
      remove_output_(std::exchange(other.remove_output_, false)),
      http_port_(other.http_port_),
      grpc_port_(other.grpc_port_) {}

ExtenderProcess::~ExtenderProcess() {
  terminate(std::chrono::milliseconds(5000));
  if (remove_output_) {
    ::unlink(output_path_.c_str());
  }
}

std::string ExtenderProcess::output() const {
  std::ifstream in(output_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

common::Result<double> ExtenderProcess::cpu_seconds() const {
  if (pid_ <= 0) {
    return common::Error{"epc-extender is not running"};
  }
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return common::Error{"cannot read /proc/" + std::to_string(pid_) + "/stat"};
  }
  auto ticks = cpu_ticks_of_stat(line);
  if (!ticks.ok()) {
    return ticks.error();
  }
  return static_cast<double>(*ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int ExtenderProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return -1;
  }
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno != EINTR)) {
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return exit_code(status);
}

}  // namespace epc::tools::load
