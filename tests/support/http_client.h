#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "extender/core/result.h"

namespace epc::test_support {

// One HTTP/1.1 response as the test client saw it.
struct HttpResponse {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  bool keep_alive = false;  // the server left the connection open for the next request
};

// A small synchronous HTTP/1.1 keep-alive client for tests and tools: one TCP connection to
// host:port, reused across requests, reopened on the next request after the server closed it or an
// error occurred. Errors (connect, write, read, timeout) come back as values.
//
// Thread-safety: none; use one client per thread. Beast stays out of this header.
class HttpClient {
 public:
  // Does not connect yet: the first request does.
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  core::Result<HttpResponse> post(std::string_view target, std::string_view body,
                                  std::string_view content_type = "application/json");
  core::Result<HttpResponse> get(std::string_view target);
  // Any method ("PUT", "DELETE", ...), with an optional body.
  core::Result<HttpResponse> request(std::string_view method, std::string_view target,
                                     std::string_view body = {},
                                     std::string_view content_type = "application/json");

  // Opens the connection now (normally implicit). Useful to hold a connection before a request.
  core::Result<bool> connect();
  // True while a connection is open (as far as the client knows).
  bool connected() const;
  // How many TCP connections this client has opened so far (keep-alive checks).
  int connections_opened() const;
  // Closes the connection; the next request opens a new one.
  void close();

  // Per-request deadline for connect + write + read. Default 10 s.
  void set_timeout_ms(std::int64_t timeout_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::test_support
