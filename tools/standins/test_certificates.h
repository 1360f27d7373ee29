#pragma once

#include <string>
#include <variant>

#include "common/result.h"

namespace epc::tools::standins {

// A throw-away PKI for tests and the demo, all PEM: a self-signed CA, a server certificate it
// signed for 127.0.0.1, ::1 and localhost (serverAuth), and a client certificate it signed
// (clientAuth) whose subject is CN=<client_common_name>, O=<client_organization> — the way
// kube-apiserver reads a user name and its groups from a client certificate.
struct TestCertificates {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
};

struct TestCertificateOptions {
  std::string client_common_name = "system:kube-scheduler";
  std::string client_organization = "system:masters";  // empty: no O
  int valid_days = 7;
};

// Generates fresh EC P-256 keys and the three certificates (OpenSSL 3). Errors carry OpenSSL's
// reason. Thread-safety: any thread; each call is independent.
common::Result<TestCertificates> make_test_certificates(const TestCertificateOptions& options = {});

// Writes ca.crt, ca.key, server.crt, server.key, client.crt and client.key into `dir` (which must
// exist); the keys are made readable by the owner only.
common::Result<std::monostate> write_test_certificates(const TestCertificates& certificates,
                                                       const std::string& dir);

}  // namespace epc::tools::standins
