#include "deviceplugin/report/extender_credentials.h"

#include <fstream>
#include <sstream>

#include <grpcpp/security/credentials.h>

namespace epc::deviceplugin::report {

namespace {

// A credential file is small (a token is ~1 KiB, a chain a few KiB); larger is not one.
constexpr std::size_t kMaxCredentialFileBytes = 1 << 20;

common::Result<std::string> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return common::Error{std::string(what) + " " + path + " cannot be read"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string out = std::move(text).str();
  if (out.empty()) {
    return common::Error{std::string(what) + " " + path + " is empty"};
  }
  if (out.size() > kMaxCredentialFileBytes) {
    return common::Error{std::string(what) + " " + path + " is larger than 1 MiB"};
  }
  return out;
}

}  // namespace

common::Result<ConnectionCredentials> load_connection_credentials(const ExtenderTls& tls) {
  ConnectionCredentials out;
  if (tls.ca_file.empty()) {
    out.channel = grpc::InsecureChannelCredentials();
    return out;
  }
  grpc::SslCredentialsOptions ssl;
  auto ca = read_file(tls.ca_file, "--extender-ca-file");
  if (!ca.ok()) {
    return ca.error();
  }
  ssl.pem_root_certs = std::move(ca).value();
  if (!tls.client_cert_file.empty()) {
    auto cert = read_file(tls.client_cert_file, "--extender-client-cert-file");
    if (!cert.ok()) {
      return cert.error();
    }
    auto key = read_file(tls.client_key_file, "--extender-client-key-file");
    if (!key.ok()) {
      return key.error();
    }
    ssl.pem_cert_chain = std::move(cert).value();
    ssl.pem_private_key = std::move(key).value();
  }
  if (!tls.token_file.empty()) {
    auto token = read_file(tls.token_file, "--extender-token-file");
    if (!token.ok()) {
      return token.error();
    }
    std::string text = std::move(token).value();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
      text.pop_back();
    }
    out.bearer_token = std::move(text);
  }
  out.channel = grpc::SslCredentials(ssl);
  out.server_name = tls.server_name;
  return out;
}

}  // namespace epc::deviceplugin::report
