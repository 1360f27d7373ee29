#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace epc::tools::http_client {

// One HTTP/1.1 response as the client saw it.
struct HttpResponse {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  bool keep_alive = false;  // the server left the connection open for the next request
};

// A small synchronous HTTP/1.1 keep-alive client, shaped like kube-scheduler's Go client towards an
// extender: one TCP connection to host:port, one request at a time, the connection reused until the
// server closes it. POST bodies go with a Content-Type and a Content-Length. The host may be a name
// (resolved at connect) or a numeric address.
//
// A request on a connection opened before that request (kept alive, or by connect()) is sent once
// more on a new connection when the write fails or the server closes before answering: the server
// closed the idle connection under us, as Go's net/http retries too. A request that opened its own
// connection is never repeated, so errors from a fresh connection come back as they are.
//
// With set_tls() it speaks HTTPS as kube-scheduler's tlsConfig does: the server's certificate
// verified against a CA file and a server name (SNI too), optionally a client certificate.
//
// Errors (resolve, connect, handshake, write, read, timeout) come back as values. Beast stays out
// of this header.
//
// Thread-safety: none; use one client per thread.
class HttpClient {
 public:
  // Does not connect yet: the first request does (or connect(), to fail early).
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  common::Result<HttpResponse> post(std::string_view target, std::string_view body,
                                    std::string_view content_type = "application/json");
  common::Result<HttpResponse> get(std::string_view target);
  // Any method ("PUT", "DELETE", ...), with an optional body.
  common::Result<HttpResponse> request(std::string_view method, std::string_view target,
                                       std::string_view body = {},
                                       std::string_view content_type = "application/json");

  // Opens the connection now (normally implicit), so a wrong address fails at startup rather than
  // at the first request. No-op while a connection is open.
  common::Result<bool> connect();
  // True while a connection is open (as far as the client knows).
  bool connected() const;
  // How many TCP connections this client has opened so far (1 when keep-alive held throughout).
  int connections_opened() const;
  // Closes the connection; the next request opens a new one.
  void close();

  // HTTPS from the next connection on. server_name empty: the host. Files are read at each connect;
  // one that does not load is that connect's error.
  struct Tls {
    std::string ca_file;
    std::string server_name;
    std::string cert_file;  // with key_file: a client certificate
    std::string key_file;
  };
  void set_tls(Tls tls);

  // Deadline for each step: resolve + connect, the write, the read. Default 10 s: a hung server
  // must not hang the caller.
  void set_timeout(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::tools::http_client
