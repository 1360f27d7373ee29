#include "extender/http/tls_context.h"

#include <cstdio>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

namespace epc::http {

namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Built with OpenSSL's own calls (not asio's throwing ones) so every failure names its file.
common::Result<std::shared_ptr<ssl::context>> load(const TlsContext::Files& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return common::Error{"http.tls.cert_file " + files.cert_file + ": " + openssl_reason()};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return common::Error{
        "http.tls.key_file " + files.key_file +
        (mismatch ? " does not match http.tls.cert_file " + files.cert_file : std::string()) +
        ": " + openssl_reason()};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return common::Error{"http.tls.key_file " + files.key_file +
                         " does not match http.tls.cert_file " + files.cert_file + ": " +
                         openssl_reason()};
  }
  if (!files.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, files.client_ca_file.c_str(), nullptr) != 1) {
      return common::Error{"http.tls.client_ca_file " + files.client_ca_file + ": " +
                           openssl_reason()};
    }
    // The CA's names go into the CertificateRequest, so a client with several certificates
    // (Go's GetClientCertificate) can pick the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return context;
}

}  // namespace

TlsContext::TlsContext(Files files, std::chrono::milliseconds period)
    : files_(std::move(files)), period_(period) {}

common::Result<std::unique_ptr<TlsContext>> TlsContext::create(Files files,
                                                               std::chrono::milliseconds period) {
  std::unique_ptr<TlsContext> out(new TlsContext(std::move(files), period));
  const auto stamps = out->stamps();
  auto context = load(out->files_);
  if (!context.ok()) {
    return context.error();
  }
  out->context_ = std::move(context).value();
  out->loaded_ = stamps;
  out->next_look_ = std::chrono::steady_clock::now() + period;
  return out;
}

std::array<TlsContext::Stamp, 3> TlsContext::stamps() const {
  std::array<Stamp, 3> out{};
  const std::string* paths[] = {&files_.cert_file, &files_.key_file, &files_.client_ca_file};
  for (std::size_t i = 0; i < out.size(); ++i) {
    struct stat st {};
    if (!paths[i]->empty() && ::stat(paths[i]->c_str(), &st) == 0) {
      out[i] = {static_cast<long long>(st.st_dev), static_cast<long long>(st.st_ino),
                static_cast<long long>(st.st_size),
                static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec};
    }
  }
  return out;
}

std::shared_ptr<ssl::context> TlsContext::current() const {
  const std::lock_guard lock(mutex_);
  return context_;
}

bool TlsContext::refresh(std::chrono::steady_clock::time_point now) {
  {
    const std::lock_guard lock(mutex_);
    if (now < next_look_) {
      return false;
    }
    next_look_ = now + period_;
  }
  const auto stamps_now = stamps();
  {
    const std::lock_guard lock(mutex_);
    if (stamps_now == loaded_ || stamps_now == failed_) {
      return false;
    }
  }
  // Loaded outside the lock: connections accepted meanwhile take the old context.
  auto context = load(files_);
  const std::lock_guard lock(mutex_);
  if (!context.ok()) {
    failed_ = stamps_now;
    std::fprintf(stderr,
                 "epc-extender http: TLS files changed but do not load (%s); serving "
                 "the previous certificate\n",
                 context.error().message.c_str());
    return false;
  }
  context_ = std::move(context).value();
  loaded_ = stamps_now;
  failed_ = {};
  std::fprintf(stderr, "epc-extender http: TLS certificate reloaded from %s\n",
               files_.cert_file.c_str());
  return true;
}

}  // namespace epc::http
