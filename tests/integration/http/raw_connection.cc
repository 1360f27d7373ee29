#include "tests/integration/http/raw_connection.h"

#include <cerrno>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace epc::http::test {

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    return;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

RawConnection::ReadEnd RawConnection::read_some(std::string& out,
                                                std::chrono::milliseconds timeout) {
  pollfd poll_fd{fd_, POLLIN, 0};
  const int ready = ::poll(&poll_fd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) {
    return ReadEnd::kTimeout;
  }
  char buffer[16384];
  const ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
  if (got <= 0) {
    return ReadEnd::kClosed;  // orderly close or reset
  }
  out.append(buffer, static_cast<std::size_t>(got));
  return ReadEnd::kData;
}

RawConnection::ReadEnd RawConnection::read_until_closed(std::string& out,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return ReadEnd::kTimeout;
    }
    const ReadEnd end = read_some(out, left);
    if (end != ReadEnd::kData) {
      return end;
    }
  }
}

bool RawConnection::read_responses(std::string& out, int count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (complete_responses(out) < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || read_some(out, left) != ReadEnd::kData) {
      return false;
    }
  }
  return true;
}

int complete_responses(std::string_view bytes) {
  int count = 0;
  for (;;) {
    const std::size_t header_end = bytes.find("\r\n\r\n");
    if (header_end == std::string_view::npos) {
      return count;
    }
    const std::string_view header = bytes.substr(0, header_end);
    std::size_t length = 0;
    // Header names are case-insensitive; Beast writes "Content-Length".
    const std::size_t at = header.find("Content-Length: ");
    if (at != std::string_view::npos) {
      length = static_cast<std::size_t>(
          std::strtoull(std::string(header.substr(at + 16, 20)).c_str(), nullptr, 10));
    }
    const std::size_t total = header_end + 4 + length;
    if (bytes.size() < total) {
      return count;
    }
    ++count;
    bytes.remove_prefix(total);
  }
}

}  // namespace epc::http::test
