#include "tools/load/scheduler_client.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace epc::tools::load {

namespace {

// What Go's net/http sends for kube-scheduler's extender calls (recorded in
// tests/data/kube-scheduler/ORIGIN.md's shared set).
constexpr std::string_view kUserAgent = "Go-http-client/1.1";
// Reads take at most the free space of the buffer: keep it large so a 180 KB reply takes a few
// syscalls, not dozens.
constexpr std::size_t kInitialBufferBytes = 256 * 1024;
constexpr std::size_t kMinReadBytes = 16 * 1024;
// Headers larger than this are not an extender's.
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

common::Error error(std::string message) { return common::Error{std::move(message)}; }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// "text" in quotes, for error messages (appended: GCC 12 at -O3 misreports `"\"" + string` under
// -Wrestrict).
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  out.append(text);
  out.push_back('"');
  return out;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) {
    return false;
  }
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) {
      return true;
    }
  }
  return false;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

template <typename Int>
bool parse_number(std::string_view text, Int& out, int base = 10) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Counters

WireCounters& WireCounters::operator+=(const WireCounters& other) {
  bytes_sent += other.bytes_sent;
  bytes_received += other.bytes_received;
  round_trips += other.round_trips;
  connections += other.connections;
  return *this;
}

WireCounters operator-(WireCounters a, const WireCounters& b) {
  a.bytes_sent -= b.bytes_sent;
  a.bytes_received -= b.bytes_received;
  a.round_trips -= b.round_trips;
  a.connections -= b.connections;
  return a;
}

common::Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return error(quoted(text) + " is not HOST:PORT");
  }
  unsigned port = 0;
  if (!parse_number(text.substr(colon + 1), port) || port == 0 || port > 65535) {
    return error(quoted(text) + ": the port must be 1..65535");
  }
  return std::pair<std::string, std::uint16_t>{std::string(text.substr(0, colon)),
                                               static_cast<std::uint16_t>(port)};
}

// ---------------------------------------------------------------------------------------------
// Connection

SchedulerClient::SchedulerClient(std::string host, std::uint16_t port)
    : host_(std::move(host)),
      host_header_(host_ + ":" + std::to_string(port)),
      port_(port),
      in_(kInitialBufferBytes) {}

SchedulerClient::~SchedulerClient() { close(); }

void SchedulerClient::set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

void SchedulerClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  in_filled_ = 0;
  in_consumed_ = 0;
  reused_ = false;
}

common::Result<bool> SchedulerClient::connect() {
  if (fd_ >= 0) {
    return true;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  const std::string numeric = host_ == "localhost" ? "127.0.0.1" : host_;
  if (inet_pton(AF_INET, numeric.c_str(), &address.sin_addr) != 1) {
    return error(quoted(host_) + " is not a numeric IPv4 address");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return error(errno_text("socket"));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  const int one = 1;
  // SO_SNDTIMEO also bounds connect() on Linux.
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    const std::string text = errno_text("setsockopt");
    ::close(fd);
    return error(text);
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const std::string text = errno_text(("connect " + host_header_).c_str());
    ::close(fd);
    return error(text);
  }
  fd_ = fd;
  in_filled_ = 0;
  in_consumed_ = 0;
  reused_ = false;
  ++counters_.connections;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Requests

common::Result<SchedulerResponse> SchedulerClient::post(std::string_view path,
                                                        std::string_view body) {
  for (int attempt = 0;; ++attempt) {
    if (auto connected = connect(); !connected.ok()) {
      return connected.error();
    }
    const bool was_reused = reused_;
    bool retryable = false;
    auto response = exchange(path, body, retryable);
    if (response.ok()) {
      reused_ = true;
      return response;
    }
    close();
    // Go's transport sends a request once more when a kept-alive connection turned out to be
    // closed by the server before any byte of the reply came back.
    if (!(retryable && was_reused && attempt == 0)) {
      return response.error();
    }
  }
}

common::Result<SchedulerResponse> SchedulerClient::exchange(std::string_view path,
                                                            std::string_view body,
                                                            bool& retryable) {
  // Bytes of a previous response past its end (a server never pipelines, but keep them).
  if (in_consumed_ > 0) {
    std::memmove(in_.data(), in_.data() + in_consumed_, in_filled_ - in_consumed_);
    in_filled_ -= in_consumed_;
    in_consumed_ = 0;
  }
  head_.clear();
  head_.append("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(host_header_);
  head_.append("\r\nUser-Agent: ").append(kUserAgent);
  char length[24];
  const auto [end, ec] = std::to_chars(length, length + sizeof length, body.size());
  (void)ec;
  head_.append("\r\nContent-Length: ").append(length, end);
  head_.append("\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n");
  if (auto written = write_all(head_, body); !written.ok()) {
    retryable = true;  // nothing of the reply came back
    return written.error();
  }
  auto response = read_response(retryable);
  if (response.ok()) {
    ++counters_.round_trips;
  }
  return response;
}

common::Result<bool> SchedulerClient::write_all(std::string_view head, std::string_view body) {
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
  int first = 0;
  while (first < 2) {
    msghdr message{};
    message.msg_iov = parts + first;
    message.msg_iovlen = static_cast<std::size_t>(2 - first);
    const ssize_t n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return error(errno == EAGAIN ? std::string("write timed out") : errno_text("write"));
    }
    counters_.bytes_sent += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (first < 2 && left >= parts[first].iov_len) {
      left -= parts[first].iov_len;
      ++first;
    }
    if (first < 2) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
  return true;
}

common::Result<std::size_t> SchedulerClient::read_more() {
  if (in_.size() - in_filled_ < kMinReadBytes + kBodyPaddingBytes) {
    if (in_.size() >= kMaxResponseBytes + kBodyPaddingBytes) {
      return error("response larger than " + std::to_string(kMaxResponseBytes) + " bytes");
    }
    in_.resize(std::min(in_.size() * 2, kMaxResponseBytes + kBodyPaddingBytes));
  }
  for (;;) {
    const ssize_t n =
        ::recv(fd_, in_.data() + in_filled_, in_.size() - in_filled_ - kBodyPaddingBytes, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return error(errno == EAGAIN ? std::string("read timed out") : errno_text("read"));
    }
    in_filled_ += static_cast<std::size_t>(n);
    counters_.bytes_received += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
}

common::Result<SchedulerResponse> SchedulerClient::read_response(bool& retryable) {
  // Headers.
  std::size_t header_end = std::string_view::npos;
  for (;;) {
    const std::string_view seen(in_.data(), in_filled_);
    header_end = seen.find("\r\n\r\n");
    if (header_end != std::string_view::npos) {
      break;
    }
    if (in_filled_ > kMaxHeaderBytes) {
      return error("response headers longer than " + std::to_string(kMaxHeaderBytes) + " bytes");
    }
    auto n = read_more();
    if (!n.ok()) {
      retryable = in_filled_ == 0;
      return n.error();
    }
    if (*n == 0) {
      retryable = in_filled_ == 0;
      return error(in_filled_ == 0 ? "the server closed the connection before answering"
                                   : "the server closed the connection inside the headers");
    }
  }
  const std::string_view head(in_.data(), header_end);
  const std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
    return error("malformed status line \"" + std::string(status_line.substr(0, 64)) + "\"");
  }
  SchedulerResponse response;
  if (!parse_number(status_line.substr(9, 3), response.status)) {
    return error("malformed status line \"" + std::string(status_line.substr(0, 64)) + "\"");
  }
  bool keep_alive = status_line[7] == '1';  // HTTP/1.1 keeps alive unless told otherwise
  bool chunked = false;
  bool has_length = false;
  std::size_t content_length = 0;
  std::size_t at = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    std::size_t next = head.find("\r\n", at);
    if (next == std::string_view::npos) {
      next = head.size();
    }
    const std::string_view line = head.substr(at, next - at);
    at = next + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return error("malformed header line \"" + std::string(line.substr(0, 64)) + "\"");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      if (!parse_number(value, content_length)) {
        return error("bad Content-Length \"" + std::string(value.substr(0, 32)) + "\"");
      }
      has_length = true;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = icontains(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close")) {
        keep_alive = false;
      } else if (icontains(value, "keep-alive")) {
        keep_alive = true;
      }
    } else if (iequals(name, "content-encoding") && !iequals(value, "identity")) {
      return error("the server sent a " + std::string(value) +
                   "-encoded reply; this client does not decode it");
    }
  }
  const std::size_t body_start = header_end + 4;

  if (chunked) {
    if (auto decoded = read_chunked(body_start); !decoded.ok()) {
      return decoded.error();
    }
    response.body =
        std::string_view(chunked_body_.data(), chunked_body_.size() - kBodyPaddingBytes);
  } else if (has_length) {
    if (content_length > kMaxResponseBytes) {
      return error("response larger than " + std::to_string(kMaxResponseBytes) + " bytes");
    }
    while (in_filled_ < body_start + content_length) {
      auto n = read_more();
      if (!n.ok()) {
        return n.error();
      }
      if (*n == 0) {
        return error("the server closed the connection inside the body");
      }
    }
    response.body = std::string_view(in_.data() + body_start, content_length);
    in_consumed_ = body_start + content_length;
  } else {
    // No length: the body runs to the close.
    for (;;) {
      auto n = read_more();
      if (!n.ok()) {
        return n.error();
      }
      if (*n == 0) {
        break;
      }
    }
    keep_alive = false;
    response.body = std::string_view(in_.data() + body_start, in_filled_ - body_start);
    in_consumed_ = in_filled_;
  }
  if (!keep_alive) {
    // The body stays readable: close the socket but keep the buffer until the next request.
    ::close(fd_);
    fd_ = -1;
    reused_ = false;
  }
  return response;
}

common::Result<bool> SchedulerClient::read_chunked(std::size_t body_start) {
  chunked_body_.clear();
  std::size_t at = body_start;
  // Makes sure [at, at + count) is in the buffer.
  auto need = [&](std::size_t count) -> common::Result<bool> {
    while (in_filled_ < at + count) {
      auto n = read_more();
      if (!n.ok()) {
        return n.error();
      }
      if (*n == 0) {
        return error("the server closed the connection inside a chunked body");
      }
    }
    return true;
  };
  // The line at `at`, without its CRLF; `at` moves past it.
  auto line = [&](std::string_view& out) -> common::Result<bool> {
    for (;;) {
      const std::string_view seen(in_.data() + at, in_filled_ - at);
      const std::size_t end = seen.find("\r\n");
      if (end != std::string_view::npos) {
        out = seen.substr(0, end);
        at += end + 2;
        return true;
      }
      if (seen.size() > kMaxHeaderBytes) {
        return error("chunk size line too long");
      }
      if (auto more = need(seen.size() + 1); !more.ok()) {
        return more;
      }
    }
  };
  for (;;) {
    std::string_view size_line;
    if (auto got = line(size_line); !got.ok()) {
      return got;
    }
    size_line = trim(size_line.substr(0, size_line.find(';')));
    std::size_t size = 0;
    if (!parse_number(size_line, size, 16)) {
      return error("bad chunk size \"" + std::string(size_line.substr(0, 32)) + "\"");
    }
    if (size == 0) {
      break;
    }
    if (chunked_body_.size() + size > kMaxResponseBytes) {
      return error("response larger than " + std::to_string(kMaxResponseBytes) + " bytes");
    }
    if (auto got = need(size + 2); !got.ok()) {
      return got;
    }
    chunked_body_.insert(chunked_body_.end(), in_.data() + at, in_.data() + at + size);
    at += size + 2;
  }
  // Trailers, up to the empty line.
  for (;;) {
    std::string_view trailer;
    if (auto got = line(trailer); !got.ok()) {
      return got;
    }
    if (trailer.empty()) {
      break;
    }
  }
  in_consumed_ = at;
  chunked_body_.resize(chunked_body_.size() + kBodyPaddingBytes, '\0');
  return true;
}

}  // namespace epc::tools::load
