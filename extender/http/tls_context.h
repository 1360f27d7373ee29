#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"

namespace epc::http {

// The HTTPS server's OpenSSL context, rebuilt when its files change (cert-manager and kubelet's
// Secret volumes replace them atomically). A connection keeps the context it was accepted with,
// so a rotation drops none; new connections get the new one. A replacement that does not load
// (a half-written file, a key that does not match) keeps the old context and is logged once.
//
// TLS 1.2 and 1.3 only (kube-scheduler's Go client speaks both); with a client CA, a client
// without a certificate that CA signed fails the handshake.
//
// Thread-safety: current() and refresh() from any thread.
class TlsContext {
 public:
  struct Files {
    std::string cert_file;       // PEM chain
    std::string key_file;        // PEM key
    std::string client_ca_file;  // empty: no client certificate asked for
  };

  // Loads the files now: a file that is missing or does not load is an error naming it.
  static common::Result<std::unique_ptr<TlsContext>> create(Files files,
                                                            std::chrono::milliseconds period);

  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Rebuilds the context if the period has passed since the last look and a file's identity
  // (inode, size, modification time) changed. Returns true if it swapped in a new context.
  bool refresh(std::chrono::steady_clock::time_point now);

  const Files& files() const { return files_; }

 private:
  using Stamp = std::array<long long, 4>;  // device, inode, size, mtime in ns
  TlsContext(Files files, std::chrono::milliseconds period);
  std::array<Stamp, 3> stamps() const;

  const Files files_;
  const std::chrono::milliseconds period_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // guarded by mutex_
  std::array<Stamp, 3> loaded_{};                       // guarded by mutex_
  std::array<Stamp, 3> failed_{};                       // the last stamps that failed to load
  std::chrono::steady_clock::time_point next_look_;     // guarded by mutex_
};

}  // namespace epc::http
