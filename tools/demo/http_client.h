#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "extender/core/result.h"

namespace epc::tools::demo {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A blocking HTTP/1.1 client on one keep-alive connection, shaped like kube-scheduler's Go client
// towards an extender: POST with Content-Type application/json and a Content-Length body, one
// request at a time, the connection reused until the server closes it (then re-dialled once).
// Beast stays inside http_client.cc.
//
// Not thread-safe: one caller at a time.
class HttpClient {
 public:
  // Resolves and connects now, so a wrong address fails at startup rather than at the first pod.
  static core::Result<std::unique_ptr<HttpClient>> connect(std::string host, std::uint16_t port,
                                                           std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  core::Result<HttpResponse> post(std::string_view target, std::string body);
  core::Result<HttpResponse> get(std::string_view target);

  // How many TCP connections were opened (1 when keep-alive held throughout).
  int connections_opened() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::tools::demo
