#include "deviceplugin/status_server.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace epc::deviceplugin {

namespace {

constexpr std::size_t kMaxRequestBytes = 4096;

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

constexpr std::string_view kPlainText = "text/plain";
constexpr std::string_view kExposition = "text/plain; version=0.0.4; charset=utf-8";

std::string response(int status, std::string_view reason, const std::string& body,
                     std::string_view content_type = kPlainText) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

// "GET <path>" with nothing or a query after the path.
bool is_get(std::string_view line, std::string_view path) {
  if (!line.starts_with("GET ") || line.substr(4, path.size()) != path) {
    return false;
  }
  const std::string_view rest = line.substr(4 + path.size());
  return rest.empty() || rest.front() == ' ' || rest.front() == '?';
}

}  // namespace

common::Result<std::unique_ptr<StatusServer>> StatusServer::create(
    const std::string& address, std::function<HealthVerdict()> check,
    std::function<std::string()> metrics) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return common::Error{"status address: expected host:port, got '" + address + "'"};
  }
  const std::string host = address.substr(0, colon);
  int port = -1;
  const char* port_begin = address.data() + colon + 1;
  const char* port_end = address.data() + address.size();
  const auto [end, ec] = std::from_chars(port_begin, port_end, port);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (ec != std::errc() || end != port_end || port < 0 || port > 65535 ||
      ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    return common::Error{"status address: expected IPv4:port, got '" + address + "'"};
  }
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return common::Error{std::string("status socket: ") + std::strerror(errno)};
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t length = sizeof(sa);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return common::Error{"status server cannot listen on " + address + ": " + why};
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    return common::Error{std::string("status eventfd: ") + std::strerror(errno)};
  }
  std::unique_ptr<StatusServer> server(
      new StatusServer(fd, wake, ntohs(sa.sin_port), std::move(check), std::move(metrics)));
  server->thread_ = std::thread([raw = server.get()] { raw->run(); });
  return server;
}

StatusServer::StatusServer(int listen_fd, int wake_fd, int port,
                           std::function<HealthVerdict()> check,
                           std::function<std::string()> metrics)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port),
      check_(std::move(check)),
      metrics_(std::move(metrics)) {}

StatusServer::~StatusServer() {
  stop();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void StatusServer::stop() {
  if (stopped_.exchange(true)) {
    return;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) {
    thread_.join();
  }
}

void StatusServer::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    serve(fd);
    ::close(fd);
  }
}

void StatusServer::serve(int fd) {
  const timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string request;
  char chunk[512];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      break;
    }
    request.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string_view line = std::string_view(request).substr(0, request.find("\r\n"));
  if (is_get(line, "/healthz")) {
    const HealthVerdict verdict = check_();
    write_all(fd, verdict.healthy ? response(200, "OK", "ok\n")
                                  : response(503, "Service Unavailable", verdict.detail + "\n"));
  } else if (metrics_ && is_get(line, "/metrics")) {
    write_all(fd, response(200, "OK", metrics_(), kExposition));
  } else if (!line.empty()) {
    write_all(fd,
              response(404, "Not Found",
                       metrics_ ? "only /healthz and /metrics here\n" : "only /healthz here\n"));
  }
}

}  // namespace epc::deviceplugin
