#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace epc::tools::load {

// What one HTTP exchange cost on the wire, headers and framing included.
struct WireCounters {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t round_trips = 0;  // requests answered (one request + its whole response each)
  std::uint64_t connections = 0;  // TCP connections opened

  WireCounters& operator+=(const WireCounters& other);
  friend WireCounters operator-(WireCounters a, const WireCounters& b);
};

// One response. `body` points into the client's buffer: valid until the next request or close().
// At least SchedulerClient::kBodyPaddingBytes readable bytes follow the body in that buffer, so a
// parser that reads ahead (simdjson needs 64) can take it without a copy.
struct SchedulerResponse {
  unsigned status = 0;
  std::string_view body;
};

// A blocking HTTP/1.1 client shaped like kube-scheduler's Go extender client (net/http), written on
// raw sockets so that it costs the same against any server (no Beast, no HTTP library):
//
// - one keep-alive TCP connection (TCP_NODELAY, as Go sets by default), opened by connect() or the
//   first request and reused until the server closes it; a request on a connection the server
//   closed while idle is sent once more on a new one, as Go's transport does;
// - each request is written as Go writes it: `POST <path> HTTP/1.1`, then Host, User-Agent
//   (Go-http-client/1.1), Content-Length, Content-Type: application/json, Accept-Encoding: gzip,
//   a blank line and the body, in one gathered write (Go's bufio writer does a few writes; the
//   bytes on the wire are the same);
// - the response is read whole: status line, headers, then a Content-Length body, a chunked body
//   (decoded), or a body up to the close. A gzip-encoded response is an error (our servers never
//   send one; Go would decompress it transparently).
//
// Counters (bytes each way, round trips, connections) accumulate over the client's life; take
// differences around a piece of work.
//
// Errors (address, connect, write, read, timeout, malformed response) come back as values; the
// connection is closed after any of them.
//
// Thread-safety: none; one client per thread. Buffers are kept across requests: a warmed-up
// request allocates nothing.
class SchedulerClient {
 public:
  static constexpr std::size_t kBodyPaddingBytes = 64;
  // A reply larger than this is a broken server: the cap keeps a runaway reply from eating memory
  // (a prioritize reply for 5,000 nodes is ~180 KB).
  static constexpr std::size_t kMaxResponseBytes = std::size_t{64} << 20;

  // `host` is a numeric IPv4 address or "localhost"; nothing is connected yet.
  SchedulerClient(std::string host, std::uint16_t port);
  ~SchedulerClient();
  SchedulerClient(const SchedulerClient&) = delete;
  SchedulerClient& operator=(const SchedulerClient&) = delete;

  // Opens the connection now (no-op while one is open), so a wrong address fails early.
  common::Result<bool> connect();
  void close();

  // POST `path` with a JSON body; waits for the whole response.
  common::Result<SchedulerResponse> post(std::string_view path, std::string_view body);

  const WireCounters& counters() const { return counters_; }

  // Deadline for each blocking send or receive (SO_SNDTIMEO/SO_RCVTIMEO); default 10 s.
  void set_timeout(std::chrono::milliseconds timeout);

 private:
  // Writes the request on the open connection and reads the response. `retryable` is set when
  // the request failed before any byte of the reply arrived (a connection the server had closed).
  common::Result<SchedulerResponse> exchange(std::string_view path, std::string_view body,
                                             bool& retryable);
  common::Result<bool> write_all(std::string_view head, std::string_view body);
  // Reads at least one more byte into in_ (growing it); 0 on orderly close.
  common::Result<std::size_t> read_more();
  common::Result<SchedulerResponse> read_response(bool& retryable);
  common::Result<bool> read_chunked(std::size_t body_start);

  std::string host_;
  std::string host_header_;  // "host:port", as Go writes Host
  std::uint16_t port_;
  int fd_ = -1;
  std::chrono::milliseconds timeout_{10000};
  bool reused_ = false;  // the open connection already served a request

  std::string head_;  // the request line and headers of the request being written
  // Bytes read: [0, in_filled_), of which [0, in_consumed_) belong to responses already returned.
  // Reads leave kBodyPaddingBytes of the vector unused, so a body is always followed by padding.
  std::vector<char> in_;
  std::size_t in_filled_ = 0;
  std::size_t in_consumed_ = 0;
  std::vector<char> chunked_body_;  // a decoded chunked body (with padding)
  WireCounters counters_;
};

// "127.0.0.1:8888" -> host and port. Errors name what is wrong.
common::Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text);

}  // namespace epc::tools::load
