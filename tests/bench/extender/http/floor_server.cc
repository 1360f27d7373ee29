#include "tests/bench/extender/http/floor_server.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace epc::http::bench {

namespace {

// Read buffers start here and double up to the cap (a 5,000-name request is ~110 KB).
constexpr std::size_t kInitialBufferBytes = 256 * 1024;
constexpr std::size_t kMaxRequestBytes = std::size_t{64} << 20;
constexpr int kMaxEvents = 64;
// epoll data for the two non-connection descriptors.
constexpr std::uint64_t kListenTag = ~std::uint64_t{0};
constexpr std::uint64_t kWakeTag = ~std::uint64_t{0} - 1;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != prefix[i]) {
      return false;
    }
  }
  return true;
}

// The Content-Length of a header block (0 when absent); false when malformed.
bool content_length(std::string_view head, std::size_t& length) {
  length = 0;
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    at += 2;
    const std::size_t end = std::min(head.find("\r\n", at), head.size());
    const std::string_view line = head.substr(at, end - at);
    if (starts_with_nocase(line, "content-length:")) {
      std::string_view value = line.substr(15);
      while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
      }
      while (!value.empty() && value.back() == ' ') {
        value.remove_suffix(1);
      }
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      return ec == std::errc{} && ptr == value.data() + value.size();
    }
    at = end;
  }
  return true;
}

std::string response_bytes(unsigned status, std::string_view reason, std::string_view content_type,
                           std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out.append(body);
  return out;
}

}  // namespace

struct FloorServer::Connection {
  int fd = -1;
  std::vector<char> in = std::vector<char>(kInitialBufferBytes);
  std::size_t filled = 0;
  const std::string* out = nullptr;  // the reply being written (one of replies_), or none
  std::size_t out_offset = 0;
  bool waiting_to_write = false;  // EPOLLOUT armed instead of EPOLLIN
};

common::Result<std::unique_ptr<FloorServer>> FloorServer::create() {
  const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) {
    return common::Error{errno_text("socket")};
  }
  const int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd, 64) != 0 ||
      ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string text = errno_text("bind/listen");
    ::close(listen_fd);
    return common::Error{text};
  }
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (wake_fd < 0 || epoll_fd < 0) {
    const std::string text = errno_text("eventfd/epoll_create1");
    ::close(listen_fd);
    if (wake_fd >= 0) {
      ::close(wake_fd);
    }
    if (epoll_fd >= 0) {
      ::close(epoll_fd);
    }
    return common::Error{text};
  }
  epoll_event listen_event{};
  listen_event.events = EPOLLIN;
  listen_event.data.u64 = kListenTag;
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0 ||
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake_event) != 0) {
    const std::string text = errno_text("epoll_ctl");
    ::close(listen_fd);
    ::close(wake_fd);
    ::close(epoll_fd);
    return common::Error{text};
  }
  return std::unique_ptr<FloorServer>(
      new FloorServer(listen_fd, wake_fd, epoll_fd, ntohs(address.sin_port)));
}

FloorServer::FloorServer(int listen_fd, int wake_fd, int epoll_fd, std::uint16_t port)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      epoll_fd_(epoll_fd),
      port_(port),
      not_found_(response_bytes(404, "Not Found", "text/plain; charset=utf-8", "not found\n")) {}

FloorServer::~FloorServer() {
  stop();
  ::close(epoll_fd_);
  ::close(wake_fd_);
  ::close(listen_fd_);
}

void FloorServer::add_reply(std::string path, std::string_view content_type,
                            std::string_view body) {
  replies_.push_back({std::move(path), response_bytes(200, "OK", content_type, body)});
}

void FloorServer::start() {
  thread_ = std::thread([this] { run(); });
}

void FloorServer::stop() {
  if (!thread_.joinable()) {
    return;
  }
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
}

const std::string& FloorServer::reply_for(std::string_view path) const {
  for (const Reply& reply : replies_) {
    if (reply.path == path) {
      return reply.bytes;
    }
  }
  return not_found_;
}

// ---------------------------------------------------------------------------------------------
// The loop (its own thread only).

void FloorServer::run() {
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  auto close_connection = [&](int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections.erase(fd);
  };
  epoll_event events[kMaxEvents];
  for (;;) {
    const int ready = epoll_wait(epoll_fd_, events, kMaxEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (int i = 0; i < ready; ++i) {
      const std::uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) {
        for (auto& [fd, connection] : connections) {
          ::close(fd);
        }
        return;
      }
      if (tag == kListenTag) {
        while (true) {
          const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            break;
          }
          const int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event event{};
          event.events = EPOLLIN;
          event.data.u64 = static_cast<std::uint64_t>(fd);
          epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
          auto connection = std::make_unique<Connection>();
          connection->fd = fd;
          connections.emplace(fd, std::move(connection));
        }
        continue;
      }
      const int fd = static_cast<int>(tag);
      auto it = connections.find(fd);
      if (it == connections.end()) {
        continue;
      }
      Connection& connection = *it->second;
      bool keep = true;
      if ((events[i].events & EPOLLOUT) != 0) {
        keep = flush(connection) && answer_buffered(connection);
      }
      if (keep && (events[i].events & (EPOLLHUP | EPOLLERR)) != 0 && connection.out != nullptr) {
        keep = false;  // the peer is gone while a reply is pending
      }
      if (keep && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
        keep = on_readable(connection);
      }
      if (!keep) {
        close_connection(fd);
      }
    }
  }
}

bool FloorServer::flush(Connection& connection) {
  while (connection.out != nullptr) {
    const std::string& bytes = *connection.out;
    const ssize_t n = ::send(connection.fd, bytes.data() + connection.out_offset,
                             bytes.size() - connection.out_offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        return false;
      }
      if (!connection.waiting_to_write) {
        // The socket buffer is full: wait for room; reading waits until the reply is out.
        epoll_event event{};
        event.events = EPOLLOUT;
        event.data.u64 = static_cast<std::uint64_t>(connection.fd);
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
        connection.waiting_to_write = true;
      }
      return true;
    }
    connection.out_offset += static_cast<std::size_t>(n);
    if (connection.out_offset == bytes.size()) {
      connection.out = nullptr;
      connection.out_offset = 0;
      requests_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (connection.waiting_to_write) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = static_cast<std::uint64_t>(connection.fd);
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.waiting_to_write = false;
  }
  return true;
}

bool FloorServer::on_readable(Connection& connection) {
  if (connection.out != nullptr) {
    return true;  // still writing; EPOLLIN is off until then
  }
  if (connection.filled == connection.in.size()) {
    if (connection.in.size() >= kMaxRequestBytes) {
      return false;
    }
    connection.in.resize(connection.in.size() * 2);
  }
  const ssize_t n = ::recv(connection.fd, connection.in.data() + connection.filled,
                           connection.in.size() - connection.filled, 0);
  if (n == 0) {
    return false;
  }
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  connection.filled += static_cast<std::size_t>(n);
  return answer_buffered(connection);
}

bool FloorServer::answer_buffered(Connection& connection) {
  // Every complete request in the buffer, one reply at a time.
  while (connection.out == nullptr) {
    const std::string_view seen(connection.in.data(), connection.filled);
    const std::size_t header_end = seen.find("\r\n\r\n");
    if (header_end == std::string_view::npos) {
      return true;
    }
    const std::string_view head = seen.substr(0, header_end);
    std::size_t body_bytes = 0;
    if (!content_length(head, body_bytes)) {
      return false;
    }
    const std::size_t total = header_end + 4 + body_bytes;
    if (total > kMaxRequestBytes) {
      return false;
    }
    if (connection.filled < total) {
      if (connection.in.size() < total) {
        connection.in.resize(std::max(total, connection.in.size() * 2));
      }
      return true;
    }
    // "POST /sgx/filter HTTP/1.1": the path is between the first two spaces, without a query.
    const std::size_t first_space = head.find(' ');
    const std::size_t second_space = head.find(' ', first_space + 1);
    if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
      return false;
    }
    std::string_view path = head.substr(first_space + 1, second_space - first_space - 1);
    path = path.substr(0, path.find('?'));
    connection.out = &reply_for(path);
    connection.out_offset = 0;
    std::memmove(connection.in.data(), connection.in.data() + total, connection.filled - total);
    connection.filled -= total;
    if (!flush(connection)) {
      return false;
    }
  }
  return true;
}

}  // namespace epc::http::bench
