#include "extender/reports/server_credentials.h"

#include <algorithm>
#include <string>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace epc::reports {

namespace {

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Loads the files into a throw-away OpenSSL context: what gRPC's watcher will load later.
common::Result<std::monostate> check_tls_files(const std::string& cert_file,
                                               const std::string& key_file,
                                               const std::string& ca_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return common::Error{"grpc tls: " + openssl_reason()};
  }
  std::string error;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    error = "grpc.tls.cert_file " + cert_file + ": " + openssl_reason();
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL 3 compares the key with the certificate already here.
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    error = "grpc.tls.key_file " + key_file +
            (mismatch ? " does not match grpc.tls.cert_file " + cert_file : std::string()) + ": " +
            openssl_reason();
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "grpc.tls.key_file " + key_file + " does not match grpc.tls.cert_file " + cert_file +
            ": " + openssl_reason();
  } else if (!ca_file.empty() &&
             SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    error = "grpc.tls.client_ca_file " + ca_file + ": " + openssl_reason();
  }
  SSL_CTX_free(ctx);
  if (!error.empty()) {
    return common::Error{std::move(error)};
  }
  return std::monostate{};
}

}  // namespace

common::Result<std::shared_ptr<grpc::ServerCredentials>> make_server_credentials(
    const config::ExtenderConfig& config) {
  if (config.grpc_tls_cert_file.empty()) {
    return grpc::InsecureServerCredentials();
  }
  const bool mtls = config.grpc_auth == config::ExtenderConfig::GrpcAuth::kMtls;
  const std::string ca_file = mtls ? config.grpc_tls_client_ca_file : std::string();
  if (auto checked = check_tls_files(config.grpc_tls_cert_file, config.grpc_tls_key_file, ca_file);
      !checked.ok()) {
    return checked.error();
  }
  const auto refresh_s =
      static_cast<unsigned>(std::max<std::int64_t>(config.tls_reload_period_ms / 1000, 1));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      config.grpc_tls_key_file, config.grpc_tls_cert_file, ca_file, refresh_s);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mtls) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  auto credentials = grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) {
    return common::Error{"grpc tls: gRPC refused the TLS options"};
  }
  return credentials;
}

}  // namespace epc::reports
