#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"

namespace epc::http::bench {

// The I/O floor an HTTP extender cannot beat: a single-threaded epoll server on loopback that
// reads each HTTP/1.1 request whole (headers up to the blank line, then Content-Length bytes of
// body), looks its path up, and answers with bytes prepared in advance (status line, Content-Type,
// Content-Length, body) in one write. Keep-alive; nothing else: no parsing of the body, no
// allocation per request, no timers, no other methods or framings.
//
// Give it the same reply bodies our server produced for the same requests, and the difference
// between the two is what our server does beyond moving those bytes.
//
// Thread-safety: add_reply() before start(); port() from any thread. The destructor stops it.
class FloorServer {
 public:
  // Binds 127.0.0.1 on an ephemeral port and listens; does not serve yet.
  static common::Result<std::unique_ptr<FloorServer>> create();
  ~FloorServer();
  FloorServer(const FloorServer&) = delete;
  FloorServer& operator=(const FloorServer&) = delete;

  // A request whose path is `path` gets `body` with this content type (unknown paths get 404).
  void add_reply(std::string path, std::string_view content_type, std::string_view body);

  std::uint16_t port() const { return port_; }

  // Serves on a thread of its own until stop().
  void start();
  void stop();

  // Requests answered so far.
  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  struct Reply {
    std::string path;
    std::string bytes;  // the whole response
  };
  struct Connection;

  FloorServer(int listen_fd, int wake_fd, int epoll_fd, std::uint16_t port);
  void run();
  // Each returns false when the connection must be closed.
  // Reads what is there, then answer_buffered().
  bool on_readable(Connection& connection);
  // Answers every complete request in the buffer, until a reply cannot be written whole.
  bool answer_buffered(Connection& connection);
  // Writes the pending reply as far as the socket takes it (EPOLLOUT armed only while it does
  // not).
  bool flush(Connection& connection);
  const std::string& reply_for(std::string_view path) const;

  const int listen_fd_;
  const int wake_fd_;
  const int epoll_fd_;
  const std::uint16_t port_;
  std::vector<Reply> replies_;
  std::string not_found_;
  std::atomic<std::uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace epc::http::bench
