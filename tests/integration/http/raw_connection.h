#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace epc::http::test {

// A bare loopback TCP connection (POSIX sockets) for the tests that need to misbehave: stall
// mid-request, pipeline, or watch the server close. Every read has a deadline so a broken server
// fails the test instead of hanging it.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view bytes);

  enum class ReadEnd { kData, kClosed, kTimeout };
  // Reads whatever arrives within `timeout` and appends it to `out`.
  ReadEnd read_some(std::string& out, std::chrono::milliseconds timeout);
  // Reads until the peer closes (kClosed) or `timeout` passes (kTimeout); appends all data.
  ReadEnd read_until_closed(std::string& out, std::chrono::milliseconds timeout);
  // Reads until `out` holds `count` complete HTTP responses with Content-Length bodies.
  bool read_responses(std::string& out, int count, std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

// Number of complete HTTP/1.1 responses (with Content-Length) at the start of `bytes`.
int complete_responses(std::string_view bytes);

}  // namespace epc::http::test
