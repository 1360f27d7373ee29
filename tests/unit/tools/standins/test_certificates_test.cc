#include "tools/standins/test_certificates.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "tools/standins/temp_dir.h"

namespace epc::tools::standins {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `leaf` against a store holding only `ca`, for `purpose`.
int verify(X509* leaf, X509* ca, int purpose) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) {
    return X509_V_OK;
  }
  return X509_STORE_CTX_get_error(ctx.get());
}

std::string subject_entry(X509* cert, int nid) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return buf;
}

TEST(TestCertificatesTest, ServerCertificateIsSignedByTheCaForLoopback) {
  auto certs = make_test_certificates();
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  X509Ptr ca = parse(certs->ca_cert_pem);
  X509Ptr server = parse(certs->server_cert_pem);
  ASSERT_TRUE(ca && server);
  EXPECT_EQ(verify(server.get(), ca.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "10.0.0.1", 0), 0);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(server.get()), 0);
}

TEST(TestCertificatesTest, ClientCertificateCarriesTheUserAndGroup) {
  auto certs = make_test_certificates({.client_common_name = "system:kube-scheduler",
                                       .client_organization = "system:masters",
                                       .valid_days = 2});
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  X509Ptr ca = parse(certs->ca_cert_pem);
  X509Ptr client = parse(certs->client_cert_pem);
  ASSERT_TRUE(ca && client);
  EXPECT_EQ(verify(client.get(), ca.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(subject_entry(client.get(), NID_commonName), "system:kube-scheduler");
  EXPECT_EQ(subject_entry(client.get(), NID_organizationName), "system:masters");
  // Another run's CA does not vouch for this client.
  auto other = make_test_certificates();
  ASSERT_TRUE(other.ok());
  X509Ptr other_ca = parse(other->ca_cert_pem);
  EXPECT_NE(verify(client.get(), other_ca.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST(TestCertificatesTest, WritesPemFilesWithPrivateKeys) {
  auto certs = make_test_certificates();
  ASSERT_TRUE(certs.ok());
  TempDir dir("epc-certs");
  ASSERT_TRUE(dir.status().ok());
  ASSERT_TRUE(write_test_certificates(*certs, dir.path()).ok());
  std::ifstream in(dir.file("server.crt"));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), certs->server_cert_pem);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("client.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(write_test_certificates(*certs, dir.file("missing")).ok(), false);
}

}  // namespace
}  // namespace epc::tools::standins
