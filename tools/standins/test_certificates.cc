#include "tools/standins/test_certificates.h"

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace epc::tools::standins {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL handles with owners

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;

common::Error openssl_error(const std::string& what) {
  std::string message = "test certificates: " + what;
  unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return common::Error{message};
}

common::Result<PkeyPtr> make_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return openssl_error("EC P-256 key generation failed");
  }
  return key;
}

bool add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                    0) == 1;
}

// What one certificate is: its subject, its extensions and who signs it (nullptr: itself).
struct CertificateRequest {
  std::string common_name;
  std::string organization;
  bool is_ca = false;
  std::string key_usage;
  std::string extended_key_usage;  // empty: none
  std::string subject_alt_name;    // empty: none
  int valid_days = 7;
};

common::Result<X509Ptr> make_certificate(const CertificateRequest& request, EVP_PKEY* key,
                                         X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return openssl_error("X509_new failed");
  }
  // A random positive 127-bit serial, so certificates from different runs never collide.
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    return openssl_error("RAND_bytes failed");
  }
  serial_bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
      BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr), &BN_free);
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return openssl_error("cannot set the serial number");
  }
  // Valid from an hour ago, so clock skew between threads or processes never matters.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * request.valid_days) == nullptr) {
    return openssl_error("cannot set the validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!request.organization.empty() && !add_name_entry(subject, "O", request.organization)) {
    return openssl_error("cannot set O");
  }
  if (!add_name_entry(subject, "CN", request.common_name)) {
    return openssl_error("cannot set CN");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  EVP_PKEY* signer_key = issuer_key != nullptr ? issuer_key : key;
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return openssl_error("cannot set issuer or public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
      {NID_key_usage, "critical," + request.key_usage},
      {NID_subject_key_identifier, "hash"},
  };
  if (issuer != nullptr) {
    extensions.emplace_back(NID_authority_key_identifier, "keyid:always");
  }
  if (!request.extended_key_usage.empty()) {
    extensions.emplace_back(NID_ext_key_usage, request.extended_key_usage);
  }
  if (!request.subject_alt_name.empty()) {
    extensions.emplace_back(NID_subject_alt_name, request.subject_alt_name);
  }
  for (const auto& [nid, value] : extensions) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return openssl_error("cannot add extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
    }
  }
  if (X509_sign(cert.get(), signer_key, EVP_sha256()) == 0) {
    return openssl_error("X509_sign failed");
  }
  return cert;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int): OpenSSL's type
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

common::Result<std::string> cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return openssl_error("PEM_write_bio_X509 failed");
  }
  return bio_text(bio.get());
}

common::Result<std::string> key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("PEM_write_bio_PrivateKey failed");
  }
  return bio_text(bio.get());
}

common::Result<std::monostate> write_file(const std::string& path, const std::string& text,
                                          bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return common::Error{"test certificates: cannot write " + path};
  }
  if (secret && ::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) {
    return common::Error{"test certificates: cannot chmod 0600 " + path};
  }
  return std::monostate{};
}

}  // namespace

common::Result<TestCertificates> make_test_certificates(const TestCertificateOptions& options) {
  auto ca_key = make_key();
  auto server_key = make_key();
  auto client_key = make_key();
  for (const auto* key : {&ca_key, &server_key, &client_key}) {
    if (!key->ok()) {
      return key->error();
    }
  }
  const int days = options.valid_days > 0 ? options.valid_days : 1;
  auto ca = make_certificate({.common_name = "epc-standin-ca",
                              .organization = "",
                              .is_ca = true,
                              .key_usage = "keyCertSign,cRLSign,digitalSignature",
                              .extended_key_usage = "",
                              .subject_alt_name = "",
                              .valid_days = days},
                             ca_key->get(), nullptr, nullptr);
  if (!ca.ok()) {
    return ca.error();
  }
  auto server = make_certificate({.common_name = "kube-apiserver",
                                  .organization = "",
                                  .is_ca = false,
                                  .key_usage = "digitalSignature,keyEncipherment",
                                  .extended_key_usage = "serverAuth",
                                  .subject_alt_name = "IP:127.0.0.1,IP:::1,DNS:localhost",
                                  .valid_days = days},
                                 server_key->get(), ca->get(), ca_key->get());
  if (!server.ok()) {
    return server.error();
  }
  auto client = make_certificate({.common_name = options.client_common_name,
                                  .organization = options.client_organization,
                                  .is_ca = false,
                                  .key_usage = "digitalSignature,keyEncipherment",
                                  .extended_key_usage = "clientAuth",
                                  .subject_alt_name = "",
                                  .valid_days = days},
                                 client_key->get(), ca->get(), ca_key->get());
  if (!client.ok()) {
    return client.error();
  }

  TestCertificates out;
  std::pair<std::string*, common::Result<std::string>> pems[] = {
      {&out.ca_cert_pem, cert_pem(ca->get())},
      {&out.ca_key_pem, key_pem(ca_key->get())},
      {&out.server_cert_pem, cert_pem(server->get())},
      {&out.server_key_pem, key_pem(server_key->get())},
      {&out.client_cert_pem, cert_pem(client->get())},
      {&out.client_key_pem, key_pem(client_key->get())},
  };
  for (auto& [field, pem] : pems) {
    if (!pem.ok()) {
      return pem.error();
    }
    *field = std::move(pem).value();
  }
  return out;
}

common::Result<std::monostate> write_test_certificates(const TestCertificates& certificates,
                                                       const std::string& dir) {
  const std::pair<const char*, const std::string*> files[] = {
      {"ca.crt", &certificates.ca_cert_pem},         {"ca.key", &certificates.ca_key_pem},
      {"server.crt", &certificates.server_cert_pem}, {"server.key", &certificates.server_key_pem},
      {"client.crt", &certificates.client_cert_pem}, {"client.key", &certificates.client_key_pem},
  };
  for (const auto& [name, text] : files) {
    const std::string file = name;
    auto written = write_file(dir + "/" + file, *text, file.ends_with(".key"));
    if (!written.ok()) {
      return written;
    }
  }
  return std::monostate{};
}

}  // namespace epc::tools::standins
