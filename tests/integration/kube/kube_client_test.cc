// The Kubernetes API client of extender/kube against the kube-apiserver stand-in (real HTTPS on
// 127.0.0.1 with a throw-away CA): kubeconfig and in-cluster loading, RestClient (TLS, tokens,
// keep-alive, retries, cancel, line streaming), the pod and node decoders on bodies captured from
// a real kube-apiserver, and informers feeding a real state::ClusterState through live changes and
// injected faults. Every wait is a poll with a deadline, never a sleep used as synchronisation.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/quantity.h"
#include "common/sgx_resources.h"
#include "extender/core/pod_request.h"
#include "extender/kube/api_connection.h"
#include "extender/kube/api_objects.h"
#include "extender/kube/informer.h"
#include "extender/kube/kube_config.h"
#include "extender/kube/rest_client.h"
#include "extender/kube/watch_targets.h"
#include "extender/state/cluster_state.h"
#include "tests/support/captured_api_data.h"
#include "tools/standins/api_server_standin.h"
#include "tools/standins/temp_dir.h"
#include "tools/standins/test_certificates.h"

namespace epc::kube {
namespace {

using epc::test_support::captured;
using epc::test_support::captured_lines;

namespace standins = epc::tools::standins;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr milliseconds kDeadline{10000};  // a bound on what must happen, never a sleep
constexpr std::int64_t kMi = std::int64_t{1} << 20;

// ---------------------------------------------------------------------------------------------
// Helpers

// Polls `condition` every few milliseconds until it holds or `deadline` passes.
template <typename Condition>
bool eventually(Condition condition, milliseconds deadline = kDeadline) {
  const auto end = steady_clock::now() + deadline;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (steady_clock::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
}

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::int64_t quantity(const std::string& text) {
  auto parsed = common::parse_quantity_units(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : 0;
}

// ---------------------------------------------------------------------------------------------
// A TCP relay in front of the stand-in that counts the connections a client opens and can cut
// them all (the server closing idle keep-alive connections, as seen by the client).

class TcpRelay {
 public:
  explicit TcpRelay(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      return;
    }
    socklen_t size = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &size);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~TcpRelay() {
    stopping_.store(true);
    if (accept_thread_.joinable()) {
      accept_thread_.join();
    }
    cut_all();
    std::lock_guard lock(mutex_);
    for (auto& c : connections_) {
      c->pump.join();
      ::close(c->client);
      ::close(c->upstream);
    }
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
    }
  }

  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::uint16_t port() const { return port_; }
  std::size_t accepted() const { return accepted_.load(); }
  std::size_t open_connections() const {
    std::lock_guard lock(mutex_);
    std::size_t open = 0;
    for (const auto& c : connections_) {
      open += c->done.load() ? 0 : 1;
    }
    return open;
  }

  // Closes both sides of every relayed connection (a FIN to the client, no TLS close_notify).
  void cut_all() {
    std::lock_guard lock(mutex_);
    for (auto& c : connections_) {
      ::shutdown(c->client, SHUT_RDWR);
      ::shutdown(c->upstream, SHUT_RDWR);
    }
  }

 private:
  struct Connection {
    int client = -1;
    int upstream = -1;
    std::atomic<bool> done{false};
    std::thread pump;
  };

  void accept_loop() {
    while (!stopping_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        continue;
      }
      accepted_.fetch_add(1);
      const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(upstream_port_);
      if (upstream < 0 ||
          ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        if (upstream >= 0) {
          ::close(upstream);
        }
        continue;
      }
      auto connection = std::make_unique<Connection>();
      connection->client = client;
      connection->upstream = upstream;
      Connection* raw = connection.get();
      std::lock_guard lock(mutex_);
      connection->pump = std::thread([this, raw] { pump(*raw); });
      connections_.push_back(std::move(connection));
    }
  }

  static bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
      if (sent <= 0) {
        return false;
      }
      data += sent;
      size -= static_cast<std::size_t>(sent);
    }
    return true;
  }

  void pump(Connection& c) {
    char buffer[16384];
    bool end = false;
    while (!end && !stopping_.load()) {
      pollfd p[2] = {{c.client, POLLIN, 0}, {c.upstream, POLLIN, 0}};
      const int ready = ::poll(p, 2, 20);
      if (ready < 0) {
        break;
      }
      for (int i = 0; i < 2 && !end; ++i) {
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          const ssize_t got = ::recv(p[i].fd, buffer, sizeof buffer, 0);
          end = got <= 0 || !send_all(p[1 - i].fd, buffer, static_cast<std::size_t>(got));
        }
      }
    }
    ::shutdown(c.client, SHUT_RDWR);
    ::shutdown(c.upstream, SHUT_RDWR);
    c.done.store(true);
  }

  std::uint16_t upstream_port_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> accepted_{0};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;  // guarded by mutex_
  std::thread accept_thread_;
};

// ---------------------------------------------------------------------------------------------
// Fixture: a fresh stand-in per test.

class StandinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.status().ok()) << dir_.status().error().message;
    auto started = standins::ApiServerStandin::start(server_options());
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(started.value());
  }

  virtual standins::ApiServerStandin::Options server_options() const { return {}; }

  // The kubeconfig the stand-in writes for `user`, loaded.
  KubeConfig config(standins::KubeconfigUser user = standins::KubeconfigUser::kAdminToken) {
    const std::string path =
        dir_.file("kubeconfig-" + std::to_string(static_cast<int>(user)) + ".yaml");
    auto written = server_->write_kubeconfig(path, user);
    EXPECT_TRUE(written.ok()) << written.error().message;
    auto loaded = load_kubeconfig(path);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? loaded.value() : KubeConfig{};
  }

  std::unique_ptr<RestClient> client(const KubeConfig& kube, RestClientOptions options = {}) {
    auto created = RestClient::create(kube, std::move(options));
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? std::move(created.value()) : nullptr;
  }

  std::string create_pod(const standins::PodSpec& spec) {
    auto uid = server_->create_pod(spec);
    EXPECT_TRUE(uid.ok()) << spec.name << ": " << uid.error().message;
    return uid.ok() ? uid.value() : std::string();
  }

  static standins::PodSpec sgx_pod(std::string ns, std::string name, std::string epc,
                                   std::string node = {}) {
    standins::PodSpec spec;
    spec.namespace_name = std::move(ns);
    spec.name = std::move(name);
    spec.epc = std::move(epc);
    spec.node_name = std::move(node);
    spec.extra_requests = {{"cpu", "100m"}};
    return spec;
  }

  static standins::PodSpec plain_pod(std::string ns, std::string name, std::string node = {}) {
    standins::PodSpec spec;
    spec.namespace_name = std::move(ns);
    spec.name = std::move(name);
    spec.node_name = std::move(node);
    spec.extra_requests = {{"cpu", "100m"}, {"memory", "64Mi"}};
    return spec;
  }

  static standins::NodeSpec node_spec(std::string name,
                                      std::map<std::string, std::string> capacity) {
    standins::NodeSpec spec;
    spec.name = std::move(name);
    spec.capacity = std::move(capacity);
    return spec;
  }

  std::string current_rv() const { return std::to_string(server_->resource_version()); }

  standins::TempDir dir_{"epc-kube"};
  std::unique_ptr<standins::ApiServerStandin> server_;
};

// =============================================================================================
// kubeconfig and in-cluster configuration

using KubeConfigTest = StandinTest;

TEST_F(KubeConfigTest, TokenKubeconfigOfTheStandinResolvesServerCaAndToken) {
  const KubeConfig kube = config(standins::KubeconfigUser::kAdminToken);
  EXPECT_EQ(kube.host, "127.0.0.1");
  EXPECT_EQ(kube.port, std::to_string(server_->port()));
  EXPECT_EQ(kube.base_path, "");
  EXPECT_EQ(kube.server_name, "127.0.0.1");
  EXPECT_EQ(kube.ca_pem, server_->certificates().ca_cert_pem);
  EXPECT_FALSE(kube.insecure_skip_tls_verify);
  EXPECT_EQ(kube.token, server_->options().admin_token);
  EXPECT_EQ(kube.token_file, "");
  EXPECT_EQ(kube.client_cert_pem, "");
  EXPECT_EQ(kube.client_key_pem, "");
  EXPECT_THAT(kube.origin, HasSubstr("context epc-standin"));
}

TEST_F(KubeConfigTest, ClientCertificateKubeconfigDecodesTheInlineCertificateAndKey) {
  const KubeConfig kube = config(standins::KubeconfigUser::kClientCertificate);
  EXPECT_EQ(kube.token, "");
  EXPECT_EQ(kube.client_cert_pem, server_->certificates().client_cert_pem);
  EXPECT_EQ(kube.client_key_pem, server_->certificates().client_key_pem);
  EXPECT_EQ(kube.ca_pem, server_->certificates().ca_cert_pem);
}

// A kubeconfig with several contexts, relative file references and the unsupported plugins.
class KubeconfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.status().ok());
    kube_dir_ = dir_.file("home/.kube");
    write_file(kube_dir_ + "/pki/ca.crt", "CA PEM\n");
    write_file(kube_dir_ + "/pki/client.crt", "CLIENT CERT PEM\n");
    write_file(dir_.file("elsewhere/client.key"), "CLIENT KEY PEM\n");
    write_file(kube_dir_ + "/secrets/token", "file-token\n");
    path_ = kube_dir_ + "/config";
    write_file(path_, R"(apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: pki/ca.crt
    tls-server-name: api.prod.example
- name: dev
  cluster:
    server: https://[::1]:7443/k8s/clusters/dev/
    insecure-skip-tls-verify: true
- name: inline
  cluster:
    server: https://api.example.com
    certificate-authority-data: )" +
                          base64("INLINE CA\n") + R"(
- name: bad-ca
  cluster:
    server: https://api.example.com
    certificate-authority-data: "not*base64!"
- name: plain-http
  cluster:
    server: http://10.0.0.1:8080
users:
- name: prod-admin
  user:
    tokenFile: secrets/token
- name: dev-cert
  user:
    client-certificate: pki/client.crt
    client-key: )" + dir_.file("elsewhere/client.key") +
                          R"(
- name: inline-token
  user:
    token: inline-token
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
      args: [eks, get-token]
- name: provider
  user:
    auth-provider:
      name: gcp
- name: half
  user:
    client-certificate-data: )" +
                          base64("ONLY A CERT\n") + R"(
contexts:
- name: prod
  context: {cluster: prod, user: prod-admin}
- name: dev
  context: {cluster: dev, user: dev-cert}
- name: inline
  context: {cluster: inline, user: inline-token}
- name: anonymous
  context: {cluster: inline}
- name: exec
  context: {cluster: prod, user: plugin}
- name: provider
  context: {cluster: prod, user: provider}
- name: half
  context: {cluster: prod, user: half}
- name: no-cluster
  context: {cluster: missing, user: prod-admin}
- name: no-user
  context: {cluster: prod, user: ghost}
- name: bad-ca
  context: {cluster: bad-ca, user: inline-token}
- name: plain-http
  context: {cluster: plain-http, user: inline-token}
current-context: prod
)");
  }

  common::Result<KubeConfig> load(std::string_view context = {}) {
    return load_kubeconfig(path_, context);
  }

  standins::TempDir dir_{"epc-kubeconfig"};
  std::string kube_dir_;
  std::string path_;
};

TEST_F(KubeconfigFileTest, CurrentContextIsUsedWhenNoneIsNamed) {
  auto kube = load();
  ASSERT_TRUE(kube.ok()) << kube.error().message;
  EXPECT_EQ(kube->host, "10.0.0.1");
  EXPECT_EQ(kube->port, "6443");
  EXPECT_EQ(kube->server_name, "api.prod.example");  // tls-server-name wins over the host
  EXPECT_EQ(kube->token, "");
  EXPECT_THAT(kube->origin, HasSubstr("context prod"));
}

TEST_F(KubeconfigFileTest, RelativeFilesResolveAgainstTheKubeconfigsDirectory) {
  // The working directory is not the kubeconfig's: resolution must not depend on it.
  auto kube = load("prod");
  ASSERT_TRUE(kube.ok()) << kube.error().message;
  EXPECT_EQ(kube->ca_pem, "CA PEM\n");
  EXPECT_EQ(kube->token_file, kube_dir_ + "/secrets/token");

  auto dev = load("dev");
  ASSERT_TRUE(dev.ok()) << dev.error().message;
  EXPECT_EQ(dev->client_cert_pem, "CLIENT CERT PEM\n");
  EXPECT_EQ(dev->client_key_pem, "CLIENT KEY PEM\n");  // an absolute path stays as it is
}

TEST_F(KubeconfigFileTest, NamedContextOverridesTheCurrentOne) {
  auto dev = load("dev");
  ASSERT_TRUE(dev.ok()) << dev.error().message;
  EXPECT_EQ(dev->host, "::1");
  EXPECT_EQ(dev->port, "7443");
  EXPECT_EQ(dev->base_path, "/k8s/clusters/dev");
  EXPECT_EQ(dev->server_name, "::1");
  EXPECT_TRUE(dev->insecure_skip_tls_verify);
  EXPECT_EQ(dev->ca_pem, "");
  EXPECT_THAT(dev->origin, HasSubstr("context dev"));

  auto inline_ctx = load("inline");
  ASSERT_TRUE(inline_ctx.ok()) << inline_ctx.error().message;
  EXPECT_EQ(inline_ctx->host, "api.example.com");
  EXPECT_EQ(inline_ctx->port, "443");
  EXPECT_EQ(inline_ctx->ca_pem, "INLINE CA\n");
  EXPECT_EQ(inline_ctx->token, "inline-token");

  auto anonymous = load("anonymous");  // a context without a user: no credentials
  ASSERT_TRUE(anonymous.ok()) << anonymous.error().message;
  EXPECT_EQ(anonymous->token, "");
  EXPECT_EQ(anonymous->client_cert_pem, "");
}

TEST_F(KubeconfigFileTest, MissingContextClusterOrUserAreClearErrors) {
  auto no_context = load("staging");
  ASSERT_FALSE(no_context.ok());
  EXPECT_THAT(no_context.error().message, HasSubstr("no context named \"staging\""));
  EXPECT_THAT(no_context.error().message, HasSubstr(path_));

  auto no_cluster = load("no-cluster");
  ASSERT_FALSE(no_cluster.ok());
  EXPECT_THAT(no_cluster.error().message, HasSubstr("cluster \"missing\", which is not defined"));

  auto no_user = load("no-user");
  ASSERT_FALSE(no_user.ok());
  EXPECT_THAT(no_user.error().message, HasSubstr("user \"ghost\", which is not defined"));

  auto half = load("half");
  ASSERT_FALSE(half.ok());
  EXPECT_THAT(half.error().message, HasSubstr("needs both a client certificate and its key"));

  auto bad_ca = load("bad-ca");
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_THAT(bad_ca.error().message, HasSubstr("certificate-authority-data is not valid base64"));

  auto missing_file = load_kubeconfig(dir_.file("nope/config"));
  ASSERT_FALSE(missing_file.ok());
  EXPECT_THAT(missing_file.error().message, HasSubstr(dir_.file("nope/config")));

  const std::string no_current = dir_.file("no-current.yaml");
  write_file(no_current, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n");
  auto none = load_kubeconfig(no_current);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message, HasSubstr("no current-context"));

  // Not a mapping at all (found by kubeconfig_fuzz: it used to escape as a yaml-cpp exception),
  // and mappings where the lists hold scalars.
  for (const char* text : {"hello\n", "- a\n- b\n", "https://10.0.0.1:6443\n"}) {
    const std::string odd = dir_.file("odd.yaml");
    write_file(odd, text);
    auto refused = load_kubeconfig(odd);
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_THAT(refused.error().message, HasSubstr("not a kubeconfig")) << text;
  }
  const std::string scalars = dir_.file("scalars.yaml");
  write_file(scalars, "current-context: c\ncontexts: [c]\nclusters: x\n");
  auto scalar_lists = load_kubeconfig(scalars);
  ASSERT_FALSE(scalar_lists.ok());
  EXPECT_THAT(scalar_lists.error().message, HasSubstr("no context named \"c\""));

  // A file the kubeconfig names that is not there.
  std::filesystem::remove(kube_dir_ + "/pki/ca.crt");
  auto no_ca = load("prod");
  ASSERT_FALSE(no_ca.ok());
  EXPECT_THAT(no_ca.error().message, HasSubstr(kube_dir_ + "/pki/ca.crt"));
}

TEST_F(KubeconfigFileTest, ExecAndAuthProviderPluginsAreRefused) {
  for (const char* context : {"exec", "provider"}) {
    auto kube = load(context);
    ASSERT_FALSE(kube.ok()) << context;
    EXPECT_THAT(kube.error().message, HasSubstr("exec or auth-provider plugin")) << context;
    EXPECT_THAT(kube.error().message, HasSubstr("token, tokenFile or client certificate"));
  }
}

TEST_F(KubeconfigFileTest, PlainHttpServerIsRefused) {
  auto kube = load("plain-http");
  ASSERT_FALSE(kube.ok());
  EXPECT_THAT(kube.error().message, HasSubstr("must be an https:// URL"));
}

// Objects without their identity (found by kube_api_fuzz; kube-apiserver never sends them): an SGX
// pod without a UID is not accounted, a node without a name is skipped in a list and refused in a
// watch event, and the objects beside them are still taken.
TEST(ApiDecoders, PodsWithoutUidAndNodesWithoutNameAreNotTaken) {
  PodDecoder pods{core::PodRequestOptions{}};
  PodEvent pod_event;
  auto no_uid =
      pods.decode_event(R"({"type":"ADDED","object":{"metadata":{"name":"p","namespace":"default",)"
                        R"("resourceVersion":"7"},"spec":{"containers":[{"resources":{"requests":)"
                        R"({"sgx.intel.com/epc":"64Mi"}}}]}}})",
                        pod_event);
  ASSERT_TRUE(no_uid.ok()) << no_uid.error().message;
  EXPECT_FALSE(pod_event.sgx);
  auto with_uid = pods.decode_event(
      R"({"type":"ADDED","object":{"metadata":{"name":"p","namespace":"default","uid":"u-1",)"
      R"("resourceVersion":"8"},"spec":{"containers":[{"resources":{"requests":)"
      R"({"sgx.intel.com/epc":"64Mi"}}}]}}})",
      pod_event);
  ASSERT_TRUE(with_uid.ok()) << with_uid.error().message;
  EXPECT_TRUE(pod_event.sgx);
  EXPECT_EQ(pod_event.pod.pod.uid, "u-1");

  NodeDecoder nodes{core::PodRequestOptions{}};
  std::string list =
      R"({"kind":"NodeList","metadata":{"resourceVersion":"9"},"items":[)"
      R"({"metadata":{},"status":{"allocatable":{"sgx.intel.com/epc":"1Gi"}}},)"
      R"({"metadata":{"name":"n1"},"status":{"allocatable":{"sgx.intel.com/epc":"1Gi"}}}]})";
  std::vector<state::ApiNode> listed;
  auto page = nodes.decode_list(list, listed);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].name, "n1");
  NodeEvent node_event;
  auto nameless =
      nodes.decode_event(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"5"},)"
                         R"("status":{"allocatable":{"sgx.intel.com/epc":"1Gi"}}}})",
                         node_event);
  ASSERT_FALSE(nameless.ok());
  EXPECT_THAT(nameless.error().message, HasSubstr("no metadata.name"));
}

TEST(ParseServerUrl, Ipv6WithPortWithoutPortAndPathPrefix) {
  auto v6 = parse_server_url("https://[::1]:6443", {});
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "6443");
  EXPECT_EQ(v6->base_path, "");
  EXPECT_EQ(v6->server_name, "::1");

  auto v6_default = parse_server_url("https://[fd00::10]", {});
  ASSERT_TRUE(v6_default.ok()) << v6_default.error().message;
  EXPECT_EQ(v6_default->host, "fd00::10");
  EXPECT_EQ(v6_default->port, "443");

  auto prefixed = parse_server_url("https://rancher.example.com/k8s/clusters/c-m-1/", {});
  ASSERT_TRUE(prefixed.ok()) << prefixed.error().message;
  EXPECT_EQ(prefixed->host, "rancher.example.com");
  EXPECT_EQ(prefixed->port, "443");
  EXPECT_EQ(prefixed->base_path, "/k8s/clusters/c-m-1");

  auto with_port = parse_server_url("https://10.1.2.3:16443/", {});
  ASSERT_TRUE(with_port.ok()) << with_port.error().message;
  EXPECT_EQ(with_port->host, "10.1.2.3");
  EXPECT_EQ(with_port->port, "16443");
  EXPECT_EQ(with_port->base_path, "");

  KubeConfig named;
  named.server_name = "kubernetes.default.svc";
  auto kept = parse_server_url("https://10.96.0.1", named);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->server_name, "kubernetes.default.svc");  // a given name is not replaced
}

TEST(ParseServerUrl, RefusesPlainHttpAndMalformedAuthorities) {
  auto http = parse_server_url("http://127.0.0.1:8080", {});
  ASSERT_FALSE(http.ok());
  EXPECT_THAT(http.error().message, HasSubstr("must be an https:// URL"));
  EXPECT_FALSE(parse_server_url("127.0.0.1:6443", {}).ok());
  EXPECT_FALSE(parse_server_url("https://[::1:6443", {}).ok());
  EXPECT_FALSE(parse_server_url("https://[::1]x6443", {}).ok());
  EXPECT_FALSE(parse_server_url("https://host:port", {}).ok());
  EXPECT_FALSE(parse_server_url("https://host:", {}).ok());
  EXPECT_FALSE(parse_server_url("https://", {}).ok());
  EXPECT_FALSE(parse_server_url("https:///api", {}).ok());
}

TEST(LoadInCluster, ReadsTheServiceAccountDirectory) {
  standins::TempDir dir("epc-sa");
  ASSERT_TRUE(dir.status().ok());
  write_file(dir.file("token"), "sa-token\n");
  write_file(dir.file("ca.crt"), "CLUSTER CA\n");
  InClusterEnvironment environment;
  environment.service_host = "10.96.0.1";
  environment.service_port = "443";
  environment.account_dir = dir.path();
  auto kube = load_in_cluster(environment);
  ASSERT_TRUE(kube.ok()) << kube.error().message;
  EXPECT_EQ(kube->host, "10.96.0.1");
  EXPECT_EQ(kube->port, "443");
  EXPECT_EQ(kube->server_name, "kubernetes.default.svc");
  EXPECT_EQ(kube->ca_pem, "CLUSTER CA\n");
  EXPECT_EQ(kube->token, "");
  EXPECT_EQ(kube->token_file, dir.file("token"));  // re-read by the client: tokens rotate
  EXPECT_EQ(kube->origin, "in-cluster");
}

TEST(LoadInCluster, MissingEnvironmentTokenOrCaAreClearErrors) {
  standins::TempDir dir("epc-sa");
  ASSERT_TRUE(dir.status().ok());
  InClusterEnvironment environment;
  environment.account_dir = dir.path();
  auto no_env = load_in_cluster(environment);
  ASSERT_FALSE(no_env.ok());
  EXPECT_THAT(no_env.error().message, HasSubstr("KUBERNETES_SERVICE_HOST"));
  EXPECT_THAT(no_env.error().message, HasSubstr("--kubeconfig"));

  environment.service_host = "10.96.0.1";
  auto no_port = load_in_cluster(environment);
  ASSERT_FALSE(no_port.ok());
  EXPECT_THAT(no_port.error().message, HasSubstr("KUBERNETES_SERVICE_PORT"));

  environment.service_port = "443";
  auto no_token = load_in_cluster(environment);
  ASSERT_FALSE(no_token.ok());
  EXPECT_THAT(no_token.error().message, HasSubstr(dir.file("token")));

  write_file(dir.file("token"), "sa-token\n");
  auto no_ca = load_in_cluster(environment);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_THAT(no_ca.error().message, HasSubstr(dir.file("ca.crt")));
}

// =============================================================================================
// RestClient

using RestClientTest = StandinTest;

TEST_F(RestClientTest, AdminTokenListsPods) {
  const std::string uid = create_pod(sgx_pod("default", "sgx-a", "64Mi", "node-a"));
  create_pod(plain_pod("default", "plain-a", "node-a"));
  auto c = client(config());
  ASSERT_TRUE(c);
  auto response = c->get("/api/v1/pods");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
  EXPECT_THAT(response->body, StartsWith(R"({"kind":"PodList","apiVersion":"v1","metadata":{)"));
  EXPECT_EQ(response->body.back(), '\n');
  EXPECT_EQ(response->retry_after_s, -1);

  PodDecoder decoder{core::PodRequestOptions{}};
  std::vector<core::ApiPod> pods;
  std::string body = response->body;
  auto page = decoder.decode_list(body, pods);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->resource_version, current_rv());
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].pod.uid, uid);
  EXPECT_EQ(pods[0].request.epc_bytes, 64 * kMi);

  // One object, and a missing one: an HTTP status is a response, not an error.
  auto one = c->get("/api/v1/namespaces/default/pods/sgx-a");
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->status, 200u);
  auto missing = c->get("/api/v1/namespaces/default/pods/nope");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_EQ(missing->status, 404u);
}

TEST_F(RestClientTest, TlsVerificationIsReallyOn) {
  auto other = standins::make_test_certificates();
  ASSERT_TRUE(other.ok()) << other.error().message;
  const std::size_t requests_before = server_->counters().requests;

  KubeConfig wrong_ca = config();
  wrong_ca.ca_pem = other->ca_cert_pem;
  auto c = client(wrong_ca);
  ASSERT_TRUE(c);
  auto refused = c->get("/api/v1/pods");
  ASSERT_FALSE(refused.ok()) << "HTTP " << refused->status << " from a server the CA did not sign";
  EXPECT_THAT(refused.error().message,
              HasSubstr("connect to https://127.0.0.1:" + std::to_string(server_->port())));

  // The right CA but a name the certificate does not carry.
  KubeConfig wrong_name = config();
  wrong_name.server_name = "kubernetes.default.svc";
  auto c2 = client(wrong_name);
  ASSERT_TRUE(c2);
  EXPECT_FALSE(c2->get("/api/v1/pods").ok());

  // No CA given: the system trust store, which does not know the test CA.
  KubeConfig system_store = config();
  system_store.ca_pem.clear();
  auto c3 = client(system_store);
  ASSERT_TRUE(c3);
  EXPECT_FALSE(c3->get("/api/v1/pods").ok());

  EXPECT_EQ(server_->counters().requests, requests_before) << "a request got past a failed TLS";

  // A name the certificate does carry.
  KubeConfig localhost = config();
  localhost.server_name = "localhost";
  auto c4 = client(localhost);
  ASSERT_TRUE(c4);
  auto ok = c4->get("/api/v1/pods");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, 200u);
}

TEST_F(RestClientTest, InsecureSkipTlsVerifyConnectsDespiteTheWrongCa) {
  auto other = standins::make_test_certificates();
  ASSERT_TRUE(other.ok()) << other.error().message;
  KubeConfig kube = config();
  kube.ca_pem = other->ca_cert_pem;
  kube.server_name = "not-the-server.example";
  kube.insecure_skip_tls_verify = true;
  auto c = client(kube);
  ASSERT_TRUE(c);
  auto response = c->get("/api/v1/pods");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
}

TEST_F(RestClientTest, WrongTokenIs401UnprivilegedIs403NoCredentialsIsAnonymous) {
  KubeConfig wrong = config();
  wrong.token = "not-a-token";
  auto c = client(wrong);
  ASSERT_TRUE(c);
  auto unauthorized = c->get("/api/v1/pods");
  ASSERT_TRUE(unauthorized.ok()) << unauthorized.error().message;
  EXPECT_EQ(unauthorized->status, 401u);
  EXPECT_THAT(unauthorized->body, HasSubstr("\"reason\":\"Unauthorized\""));

  auto alice = client(config(standins::KubeconfigUser::kUnprivilegedToken));
  ASSERT_TRUE(alice);
  auto forbidden = alice->get("/api/v1/pods");
  ASSERT_TRUE(forbidden.ok()) << forbidden.error().message;
  EXPECT_EQ(forbidden->status, 403u);
  EXPECT_THAT(forbidden->body, HasSubstr("User \\\"alice\\\" cannot list resource \\\"pods\\\""));

  KubeConfig nobody = config();
  nobody.token.clear();
  auto anonymous = client(nobody);
  ASSERT_TRUE(anonymous);
  auto anon = anonymous->get("/api/v1/pods");
  ASSERT_TRUE(anon.ok()) << anon.error().message;
  EXPECT_EQ(anon->status, 403u);
  EXPECT_THAT(anon->body, HasSubstr("system:anonymous"));
}

TEST_F(RestClientTest, ClientCertificateAuthenticates) {
  auto c = client(config(standins::KubeconfigUser::kClientCertificate));
  ASSERT_TRUE(c);
  auto response = c->get("/api/v1/nodes");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
  EXPECT_THAT(response->body, StartsWith(R"({"kind":"NodeList")"));

  // A certificate from another CA fails the handshake (the server checks what it gets).
  auto other = standins::make_test_certificates();
  ASSERT_TRUE(other.ok()) << other.error().message;
  KubeConfig foreign = config(standins::KubeconfigUser::kClientCertificate);
  foreign.client_cert_pem = other->client_cert_pem;
  foreign.client_key_pem = other->client_key_pem;
  auto f = client(foreign);
  ASSERT_TRUE(f);
  auto refused = f->get("/api/v1/nodes");
  EXPECT_TRUE(!refused.ok() || refused->status != 200u);

  // A key that is not PEM: create() says so.
  KubeConfig broken = foreign;
  broken.client_key_pem = "not a key";
  auto created = RestClient::create(broken, {});
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.error().message, HasSubstr("TLS setup"));
}

TEST_F(RestClientTest, KeepAliveReusesOneConnection) {
  TcpRelay relay(server_->port());
  ASSERT_NE(relay.port(), 0);
  KubeConfig kube = config();
  kube.port = std::to_string(relay.port());
  auto c = client(kube);
  ASSERT_TRUE(c);
  const std::size_t before = server_->counters().requests;
  for (int i = 0; i < 5; ++i) {
    auto response = c->get(i % 2 == 0 ? "/api/v1/pods" : "/api/v1/nodes");
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 200u);
  }
  // A 4xx keeps the connection too.
  auto missing = c->get("/api/v1/namespaces/default/pods/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404u);
  EXPECT_EQ(server_->counters().requests - before, 6u);
  EXPECT_EQ(relay.accepted(), 1u);
}

TEST_F(RestClientTest, RetriesOnANewConnectionWhenTheIdleOneWasClosed) {
  TcpRelay relay(server_->port());
  ASSERT_NE(relay.port(), 0);
  KubeConfig kube = config();
  kube.port = std::to_string(relay.port());
  auto c = client(kube);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->get("/api/v1/pods").ok());
  ASSERT_EQ(relay.accepted(), 1u);

  relay.cut_all();
  ASSERT_TRUE(eventually([&] { return relay.open_connections() == 0; }));
  auto after_cut = c->get("/api/v1/pods");
  ASSERT_TRUE(after_cut.ok()) << after_cut.error().message;
  EXPECT_EQ(after_cut->status, 200u);
  EXPECT_EQ(relay.accepted(), 2u);

  // POST as well: nothing was answered on the dead connection, so the retry is safe.
  const std::string uid = create_pod(sgx_pod("default", "bind-me", "16Mi"));
  relay.cut_all();
  ASSERT_TRUE(eventually([&] { return relay.open_connections() == 0; }));
  auto bound =
      c->post("/api/v1/namespaces/default/pods/bind-me/binding",
              R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"bind-me","uid":")" + uid +
                  R"("},"target":{"apiVersion":"v1","kind":"Node","name":"node-a"}})");
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  EXPECT_EQ(bound->status, 201u);
  EXPECT_EQ(server_->pod_node("default", "bind-me"), "node-a");
  EXPECT_EQ(server_->counters().bindings, 1u);
}

TEST_F(RestClientTest, RetriesAfterTheServerWentDownAndUpBetweenRequests) {
  auto c = client(config());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->get("/api/v1/pods").ok());

  ASSERT_TRUE(server_->set_down(true).ok());
  const auto start = steady_clock::now();
  auto down = c->get("/api/v1/pods");
  EXPECT_FALSE(down.ok());
  EXPECT_LT(steady_clock::now() - start, 2s) << "a refused connection must fail at once";

  ASSERT_TRUE(server_->set_down(false).ok());
  auto response = c->get("/api/v1/pods");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);

  // Down and up again while the client holds an idle keep-alive connection.
  ASSERT_TRUE(server_->set_down(true).ok());
  ASSERT_TRUE(server_->set_down(false).ok());
  auto again = c->get("/api/v1/nodes");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->status, 200u);
}

TEST_F(RestClientTest, RotatedTokenFileIsPickedUp) {
  const std::string token_path = dir_.file("sa/token");
  int step = 0;
  // Each rewrite gets a distinct modification time (file times are coarse: two writes in one
  // clock tick would look unchanged, which is not what a rotation looks like).
  auto rotate = [&](const std::string& token) {
    write_file(token_path, token + "\n");
    std::filesystem::last_write_time(
        token_path, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(++step));
  };
  KubeConfig kube = config();
  kube.token.clear();
  kube.token_file = token_path;
  auto c = client(kube);
  ASSERT_TRUE(c);

  rotate(server_->options().admin_token);
  auto first = c->get("/api/v1/pods");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->status, 200u);

  rotate("revoked-token");
  auto second = c->get("/api/v1/pods");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->status, 401u);

  rotate(server_->options().admin_token);
  auto third = c->get("/api/v1/pods");
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(third->status, 200u);

  // The in-cluster layout: token and ca.crt in the account directory. The service name is
  // kubernetes.default.svc, which the stand-in's certificate does not carry.
  write_file(dir_.file("sa/ca.crt"), server_->certificates().ca_cert_pem);
  InClusterEnvironment environment;
  environment.service_host = "127.0.0.1";
  environment.service_port = std::to_string(server_->port());
  environment.account_dir = dir_.file("sa");
  auto in_cluster = load_in_cluster(environment);
  ASSERT_TRUE(in_cluster.ok()) << in_cluster.error().message;
  auto by_service_name = client(*in_cluster);
  ASSERT_TRUE(by_service_name);
  EXPECT_FALSE(by_service_name->get("/api/v1/pods").ok());
  KubeConfig by_address = *in_cluster;
  by_address.server_name = "127.0.0.1";
  auto sa = client(by_address);
  ASSERT_TRUE(sa);
  auto sa_response = sa->get("/api/v1/pods");
  ASSERT_TRUE(sa_response.ok()) << sa_response.error().message;
  EXPECT_EQ(sa_response->status, 200u);
}

TEST_F(RestClientTest, CancelFromAnotherThreadEndsAStreamPromptly) {
  auto c = client(config());
  ASSERT_TRUE(c);
  std::promise<void> opened;
  auto opened_future = opened.get_future();
  steady_clock::time_point cancelled_at{};
  std::thread canceller([&] {
    opened_future.wait_for(kDeadline);
    cancelled_at = steady_clock::now();
    c->cancel();
  });
  unsigned status = 0;
  auto result = c->stream_lines(
      "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=" + current_rv() +
          "&timeoutSeconds=120",
      120'000, [](std::string_view) { return true; },
      [&](unsigned s) {
        status = s;
        opened.set_value();
      });
  const auto ended = steady_clock::now();
  canceller.join();
  EXPECT_EQ(status, 200u);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("cancelled"));
  EXPECT_LT(ended - cancelled_at, 1s);

  // Every later request fails at once too.
  auto later = c->get("/api/v1/pods");
  ASSERT_FALSE(later.ok());
  EXPECT_THAT(later.error().message, HasSubstr("cancelled"));
}

TEST_F(RestClientTest, CancelRightAsAStreamOpensStillEndsIt) {
  // cancel() from another thread at the moment the watch's response head arrives (the stand-in
  // registers the watch, then writes the head): the stream must still end promptly, not at its
  // idle timeout. The moment is a race, so it is tried many times.
  constexpr int kRounds = 10;
  constexpr std::int64_t kIdleMs = 2000;
  int slow = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto c = client(config());
    ASSERT_TRUE(c);
    steady_clock::time_point cancelled_at{};
    std::thread canceller([&] {
      // Woken the moment the stand-in registers the watch, just before it writes the head.
      server_->wait_for_open_watches(1, kDeadline);
      cancelled_at = steady_clock::now();
      c->cancel();
    });
    auto result = c->stream_lines(
        "/api/v1/pods?watch=1&resourceVersion=" + current_rv() + "&timeoutSeconds=30", kIdleMs,
        [](std::string_view) { return true; });
    const auto ended = steady_clock::now();
    canceller.join();
    EXPECT_FALSE(result.ok()) << "round " << round;
    if (ended - cancelled_at >= 1s) {
      ++slow;
      ADD_FAILURE() << "round " << round << ": the stream ended "
                    << std::chrono::duration_cast<milliseconds>(ended - cancelled_at).count()
                    << " ms after cancel(): " << (result.ok() ? "ok" : result.error().message);
    }
    ASSERT_TRUE(eventually([&] { return server_->counters().open_watches == 0; }));
  }
  EXPECT_EQ(slow, 0) << "of " << kRounds << " rounds";
}

TEST_F(RestClientTest, CancelEndsABlockingGet) {
  auto c = client(config());
  ASSERT_TRUE(c);
  const std::size_t before = server_->counters().requests;
  steady_clock::time_point cancelled_at{};
  std::thread canceller([&] {
    // The stand-in holds a list at a future revision for 3 s before its 504.
    eventually([&] { return server_->counters().requests > before; });
    cancelled_at = steady_clock::now();
    c->cancel();
  });
  const auto start = steady_clock::now();
  auto result = c->get("/api/v1/pods?resourceVersion=99999999");
  const auto ended = steady_clock::now();
  canceller.join();
  ASSERT_FALSE(result.ok()) << "HTTP " << result->status;
  EXPECT_THAT(result.error().message, HasSubstr("cancelled"));
  EXPECT_LT(ended - cancelled_at, 1s);
  EXPECT_LT(ended - start, server_->options().too_large_rv_wait);
}

TEST_F(RestClientTest, StreamLinesReturnsEachEventWholeAcrossChunks) {
  // Production-sized pods: the initial ADDEDs of a resourceVersion=0 watch come in 2048-byte
  // chunks, so nearly every event spans chunks; one pod is bigger than the client's read buffer.
  std::set<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    standins::PodSpec spec =
        sgx_pod("sgx-apps", "pod-" + std::to_string(i), "8Mi", i % 2 == 0 ? "node-a" : "");
    spec.extra_bytes = 2500;
    create_pod(spec);
    expected.insert("sgx-apps/" + spec.name);
  }
  standins::PodSpec huge = plain_pod("default", "huge");
  huge.extra_bytes = 40000;
  create_pod(huge);
  ASSERT_EQ(server_->options().initial_events_chunk_bytes, 2048u);

  auto c = client(config());
  ASSERT_TRUE(c);
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  std::set<std::string> seen;
  std::size_t added = 0;
  std::size_t longest = 0;
  bool end_marker = false;
  std::vector<std::string> bad;
  // A short timeoutSeconds: the stream's end would also hand over a tail the client still holds,
  // so this test checks line integrity, not latency (LiveEventArrivesWhileTheWatchIsOpen does).
  auto result = c->stream_lines(
      "/api/v1/pods?watch=1&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=3", 10'000,
      [&](std::string_view line) {
        longest = std::max(longest, line.size());
        if (line.empty() || line.front() != '{' || line.back() != '}') {
          bad.emplace_back(line.substr(0, 80));
          return true;
        }
        auto decoded = decoder.decode_event(line, event);
        if (!decoded.ok()) {
          bad.push_back(decoded.error().message);
          return true;
        }
        if (event.type == WatchEventType::kAdded) {
          ++added;
          if (event.sgx) {
            seen.insert(event.pod.pod.namespace_name);
          }
          return true;
        }
        if (event.type == WatchEventType::kBookmark &&
            line.find("k8s.io/initial-events-end") != std::string_view::npos) {
          end_marker = true;
          return false;  // the initial state is complete
        }
        return true;
      });
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("stopped by its reader"));
  EXPECT_TRUE(bad.empty()) << bad.size() << " broken lines, first: " << bad.front();
  EXPECT_TRUE(end_marker);
  EXPECT_EQ(added, expected.size() + 1);
  EXPECT_EQ(seen, expected);
  EXPECT_GT(longest, std::size_t{40000});
}

TEST_F(RestClientTest, ResponseBodyBoundFailsOnlyTheRequestOverIt) {
  for (int i = 0; i < 12; ++i) {
    standins::PodSpec spec = sgx_pod("sgx-apps", "pod-" + std::to_string(i), "8Mi", "node-a");
    spec.extra_bytes = 2500;
    create_pod(spec);
  }
  const std::string small_page = "/api/v1/pods?limit=2";
  auto unbounded = client(config());
  ASSERT_TRUE(unbounded);
  auto measured = unbounded->get(small_page);
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  ASSERT_EQ(measured->status, 200u);
  const std::size_t page_bytes = measured->body.size();

  // The bound exactly at that page's size.
  std::atomic<int> hits{0};
  RestClientOptions options;
  options.max_body_bytes = page_bytes;
  options.on_limit = [&hits](metrics::Limit limit) {
    hits += limit == metrics::Limit::kKubeResponseSize ? 1 : 0;
  };
  auto c = client(config(), options);
  ASSERT_TRUE(c);
  auto at_bound = c->get(small_page);
  ASSERT_TRUE(at_bound.ok()) << at_bound.error().message;
  EXPECT_EQ(at_bound->body, measured->body);
  // The whole list is larger: that request fails, with the bound named; nothing is buffered past
  // it.
  auto over = c->get("/api/v1/pods");
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over.error().message, HasSubstr("kube.max_response_size"));
  EXPECT_EQ(hits.load(), 1);
  // The same client goes on (on a new connection).
  auto after = c->get(small_page);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->status, 200u);
  EXPECT_EQ(hits.load(), 1);
}

TEST_F(RestClientTest, WatchLineBoundPassesALineAtItAndEndsTheStreamOnOneOver) {
  for (int i = 0; i < 5; ++i) {
    create_pod(sgx_pod("sgx-apps", "small-" + std::to_string(i), "8Mi", "node-a"));
  }
  standins::PodSpec huge = plain_pod("default", "huge");
  huge.extra_bytes = 40000;
  create_pod(huge);
  const std::string watch =
      "/api/v1/pods?watch=1&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=5";
  // Reads the initial ADDEDs up to the initial-events-end bookmark; the longest line and the
  // number of lines go to the outputs.
  const auto read_initial = [&](RestClient& c, std::size_t& longest, int& lines) {
    longest = 0;
    lines = 0;
    return c.stream_lines(watch, 10'000, [&](std::string_view line) {
      longest = std::max(longest, line.size());
      ++lines;
      return line.find("k8s.io/initial-events-end") == std::string_view::npos;
    });
  };
  std::size_t huge_line = 0;
  int all_lines = 0;
  {
    auto unbounded = client(config());
    ASSERT_TRUE(unbounded);
    auto result = read_initial(*unbounded, huge_line, all_lines);
    ASSERT_FALSE(result.ok());
    EXPECT_THAT(result.error().message, HasSubstr("stopped by its reader"));
    ASSERT_GT(huge_line, std::size_t{40000});
    ASSERT_EQ(all_lines, 7);  // 6 ADDEDs and the bookmark
  }
  std::atomic<int> hits{0};
  const auto count_hits = [&hits](metrics::Limit limit) {
    hits += limit == metrics::Limit::kKubeWatchEvent ? 1 : 0;
  };
  {
    // At the bound: the longest event passes whole.
    RestClientOptions options;
    options.max_line_bytes = huge_line;
    options.on_limit = count_hits;
    auto c = client(config(), options);
    ASSERT_TRUE(c);
    std::size_t longest = 0;
    int lines = 0;
    auto result = read_initial(*c, longest, lines);
    ASSERT_FALSE(result.ok());
    EXPECT_THAT(result.error().message, HasSubstr("stopped by its reader"));
    EXPECT_EQ(longest, huge_line);
    EXPECT_EQ(lines, all_lines);
    EXPECT_EQ(hits.load(), 0);
  }
  // One byte under it: the stream ends at that event, reported as line_too_long (a 200 response),
  // and no part of it reaches the reader.
  RestClientOptions options;
  options.max_line_bytes = huge_line - 1;
  options.on_limit = count_hits;
  auto c = client(config(), options);
  ASSERT_TRUE(c);
  std::size_t longest = 0;
  int lines = 0;
  auto result = read_initial(*c, longest, lines);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, 200u);
  EXPECT_TRUE(result->line_too_long);
  EXPECT_LT(longest, huge_line);
  EXPECT_LT(lines, all_lines);
  EXPECT_EQ(hits.load(), 1);
  // The client goes on.
  auto after = c->get("/api/v1/namespaces/default/pods/huge");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->status, 200u);
}

TEST_F(RestClientTest, LiveEventArrivesWhileTheWatchIsOpen) {
  // One small event on an open watch must reach the reader at once, not when the stream ends or
  // when enough bytes for a full read buffer have come.
  auto c = client(config());
  ASSERT_TRUE(c);
  std::mutex mutex;
  std::condition_variable changed;
  bool got = false;
  steady_clock::time_point created_at{};
  steady_clock::time_point arrived_at{};
  std::thread writer([&] {
    if (server_->wait_for_open_watches(1, kDeadline)) {
      created_at = steady_clock::now();
      create_pod(sgx_pod("default", "live", "16Mi", "node-a"));
    }
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 5s, [&] { return got; });
    lock.unlock();
    c->cancel();  // ends the watch whatever happened
  });
  auto result = c->stream_lines("/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                                    current_rv() + "&timeoutSeconds=60",
                                60'000, [&](std::string_view line) {
                                  if (line.find("\"name\":\"live\"") != std::string_view::npos) {
                                    std::lock_guard lock(mutex);
                                    arrived_at = steady_clock::now();
                                    got = true;
                                    changed.notify_all();
                                  }
                                  return true;
                                });
  writer.join();
  EXPECT_FALSE(result.ok());
  ASSERT_TRUE(got) << "the ADDED event of a live pod did not reach on_line within 5 s of its "
                      "creation while the watch stayed open";
  EXPECT_LT(arrived_at - created_at, 2s);
}

TEST_F(RestClientTest, NonOkWatchIsReturnedWholeAndACleanEndIsAResponse) {
  auto alice = client(config(standins::KubeconfigUser::kUnprivilegedToken));
  ASSERT_TRUE(alice);
  int lines = 0;
  unsigned opened = 0;
  auto forbidden = alice->stream_lines(
      "/api/v1/pods?watch=1&timeoutSeconds=5", 5000,
      [&](std::string_view) {
        ++lines;
        return true;
      },
      [&](unsigned status) { opened = status; });
  ASSERT_TRUE(forbidden.ok()) << forbidden.error().message;
  EXPECT_EQ(forbidden->status, 403u);
  EXPECT_EQ(opened, 403u);
  EXPECT_EQ(lines, 0);
  EXPECT_THAT(forbidden->body, HasSubstr("cannot watch resource"));

  // A watch the server ends at timeoutSeconds: a 200 response with nothing in it.
  auto c = client(config());
  ASSERT_TRUE(c);
  auto ended =
      c->stream_lines("/api/v1/pods?watch=1&resourceVersion=" + current_rv() + "&timeoutSeconds=1",
                      5000, [&](std::string_view) {
                        ++lines;
                        return true;
                      });
  ASSERT_TRUE(ended.ok()) << ended.error().message;
  EXPECT_EQ(ended->status, 200u);
  EXPECT_EQ(ended->body, "");
  EXPECT_EQ(lines, 0);

  // The connection is usable after the stream.
  auto after = c->get("/api/v1/pods");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->status, 200u);
}

TEST_F(RestClientTest, SilentWatchEndsAtTheIdleTimeout) {
  auto c = client(config());
  ASSERT_TRUE(c);
  const auto start = steady_clock::now();
  auto result =
      c->stream_lines("/api/v1/pods?watch=1&resourceVersion=" + current_rv() + "&timeoutSeconds=30",
                      300, [](std::string_view) { return true; });
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("silent for too long"));
  EXPECT_LT(steady_clock::now() - start, 5s);
}

TEST_F(RestClientTest, DroppedWatchIsAnError) {
  auto c = client(config());
  ASSERT_TRUE(c);
  std::thread dropper([&] {
    if (server_->wait_for_open_watches(1, kDeadline)) {
      server_->drop_watches();
    }
  });
  auto result =
      c->stream_lines("/api/v1/pods?watch=1&resourceVersion=" + current_rv() + "&timeoutSeconds=30",
                      30'000, [](std::string_view) { return true; });
  dropper.join();
  EXPECT_FALSE(result.ok()) << "a stream cut without its last chunk is not a clean end";
}

// =============================================================================================
// Decoders on captured bodies

TEST(PodDecoderCaptured, ListGivesExactlyTheSgxPods) {
  std::string body = captured("list-pods-all.json");
  PodDecoder decoder{core::PodRequestOptions{}};
  std::vector<core::ApiPod> pods;
  auto page = decoder.decode_list(body, pods);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->resource_version, "210");
  EXPECT_EQ(page->continue_token, "");

  struct Expected {
    std::string uid;
    std::string node;
    std::int64_t epc;
    bool terminal;
  };
  const std::map<std::string, Expected> expected = {
      {"default/sgx-bound-a", {"db533e12-9dcb-467d-bc47-d535c8fd6885", "node-a", 64 * kMi, false}},
      {"sgx-apps/sgx-bound-c", {"6d08bb6d-ffaf-4489-a4f0-56643919d927", "node-c", 16 * kMi, false}},
      {"sgx-apps/sgx-done-a", {"bb293a9b-1357-41be-a381-208f6116d1d3", "node-a", 8 * kMi, true}},
      {"sgx-apps/sgx-pending-1", {"ec1ec793-a147-472a-9f60-5712a9b0927f", "", 32 * kMi, false}},
      {"sgx-apps/sgx-pending-2", {"49c83f43-9c64-4a0c-bb30-919892ab5d23", "", 16 * kMi, false}},
  };
  ASSERT_EQ(pods.size(), expected.size());
  for (const core::ApiPod& pod : pods) {
    auto it = expected.find(pod.pod.namespace_name);
    ASSERT_NE(it, expected.end()) << "not an SGX pod: " << pod.pod.namespace_name;
    EXPECT_EQ(pod.pod.uid, it->second.uid) << it->first;
    EXPECT_EQ(pod.node, it->second.node) << it->first;
    EXPECT_EQ(pod.request.epc_bytes, it->second.epc) << it->first;
    EXPECT_EQ(pod.request.enclave_slots, 1) << it->first;
    EXPECT_EQ(pod.request.provision_slots, 0) << it->first;
    EXPECT_EQ(pod.priority, 0) << it->first;
    EXPECT_EQ(pod.terminal, it->second.terminal) << it->first;
  }
}

TEST(PodDecoderCaptured, WatchStreamEventsDecodeInOrder) {
  // 13-watch-pods-from-list-rv: an SGX pod created, labelled, bound, force-deleted; a plain pod
  // created, gracefully deleted, force-deleted; a bookmark.
  const std::vector<std::string> lines = captured_lines("watch-pods-from-list-rv.jsonl");
  ASSERT_EQ(lines.size(), 10u);
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  struct Expected {
    WatchEventType type;
    std::string rv;
    bool sgx;
    std::string node;
  };
  const std::vector<Expected> expected = {
      {WatchEventType::kAdded, "216", true, ""},
      {WatchEventType::kModified, "217", true, ""},
      {WatchEventType::kModified, "218", true, "node-b"},
      {WatchEventType::kModified, "219", true, "node-b"},
      {WatchEventType::kDeleted, "220", true, "node-b"},
      {WatchEventType::kAdded, "221", false, ""},
      {WatchEventType::kModified, "222", false, ""},
      {WatchEventType::kModified, "223", false, ""},
      {WatchEventType::kDeleted, "224", false, ""},
      {WatchEventType::kBookmark, "224", false, ""},
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto decoded = decoder.decode_event(lines[i], event);
    ASSERT_TRUE(decoded.ok()) << i << ": " << decoded.error().message;
    EXPECT_EQ(event.type, expected[i].type) << i;
    EXPECT_EQ(event.resource_version, expected[i].rv) << i;
    EXPECT_EQ(event.sgx, expected[i].sgx) << i;
    EXPECT_EQ(event.error_code, 0) << i;
    if (event.sgx) {
      EXPECT_EQ(event.pod.pod.namespace_name, "sgx-apps/watch-demo") << i;
      EXPECT_EQ(event.pod.pod.uid, "2f3b52b6-4c65-4e03-849a-a1a9f2b5cca0") << i;
      EXPECT_EQ(event.pod.node, expected[i].node) << i;
      EXPECT_EQ(event.pod.request.epc_bytes, 16 * kMi) << i;
      EXPECT_FALSE(event.pod.terminal) << i;
    }
  }
}

TEST(PodDecoderCaptured, BookmarksCarryOnlyTheResourceVersion) {
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  for (const auto& [file, rv] : std::vector<std::pair<std::string, std::string>>{
           {"watch-pods-bookmark.jsonl", "224"}, {"watch-pods-initial-events-end.jsonl", "271"}}) {
    const auto lines = captured_lines(file);
    ASSERT_EQ(lines.size(), 1u) << file;
    auto decoded = decoder.decode_event(lines[0], event);
    ASSERT_TRUE(decoded.ok()) << file << ": " << decoded.error().message;
    EXPECT_EQ(event.type, WatchEventType::kBookmark) << file;
    EXPECT_EQ(event.resource_version, rv) << file;
    EXPECT_FALSE(event.sgx) << file;
  }
}

TEST(PodDecoderCaptured, Error410EventGivesItsCode) {
  const auto lines = captured_lines("watch-pods-rv-too-old-410.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  auto decoded = decoder.decode_event(lines[0], event);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(event.type, WatchEventType::kError);
  EXPECT_EQ(event.error_code, 410);
  EXPECT_EQ(event.error_message, "too old resource version: 214 (271)");
  EXPECT_FALSE(event.sgx);

  // The event reused for the next line: nothing of the ERROR is left.
  auto next = decoder.decode_event(captured_lines("watch-pods-bookmark.jsonl")[0], event);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(event.error_code, 0);
  EXPECT_EQ(event.error_message, "");
}

TEST(PodDecoderCaptured, MalformedLinesAreErrors) {
  PodDecoder decoder{core::PodRequestOptions{}};
  PodEvent event;
  EXPECT_FALSE(decoder.decode_event("{\"type\":\"ADDED\",\"object\":", event).ok());
  EXPECT_FALSE(decoder.decode_event("not json", event).ok());
  auto unknown = decoder.decode_event(R"({"type":"SYNC","object":{"metadata":{}}})", event);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("SYNC"));
  std::string body = "{\"kind\":\"PodList\",\"items\":[{\"metadata\":";
  std::vector<core::ApiPod> pods;
  EXPECT_FALSE(decoder.decode_list(body, pods).ok());
}

TEST(NodeDecoderCaptured, ListGivesAllocatableSgxResources) {
  std::string body = captured("list-nodes.json");
  NodeDecoder decoder{core::PodRequestOptions{}};
  std::vector<state::ApiNode> nodes;
  auto page = decoder.decode_list(body, nodes);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->resource_version, "250");
  ASSERT_EQ(nodes.size(), 3u);
  const std::map<std::string, std::int64_t> epc = {
      {"node-a", 128 * kMi}, {"node-b", 256 * kMi}, {"node-c", 32 * kMi}};
  for (const state::ApiNode& node : nodes) {
    ASSERT_TRUE(epc.contains(node.name)) << node.name;
    EXPECT_EQ(node.epc_bytes, epc.at(node.name)) << node.name;
    EXPECT_EQ(node.enclave_slots, 20) << node.name;
    EXPECT_EQ(node.provision_slots, 20) << node.name;
    EXPECT_EQ(node.readiness, state::NodeReadiness::kNoCondition) << node.name;
    EXPECT_FALSE(node.unschedulable) << node.name;
    EXPECT_TRUE(node.advertises_sgx()) << node.name;
  }

  NodeEvent event;
  auto bookmark = decoder.decode_event(captured_lines("watch-nodes-bookmark.jsonl")[0], event);
  ASSERT_TRUE(bookmark.ok()) << bookmark.error().message;
  EXPECT_EQ(event.type, WatchEventType::kBookmark);
  EXPECT_EQ(event.resource_version, "256");
}

using DecoderStandinTest = StandinTest;

TEST_F(DecoderStandinTest, AzureAliasIsReadInMiB) {
  standins::PodSpec azure = plain_pod("confcom", "azure-app", "node-a");
  azure.extra_requests = {{std::string(common::kAzureEpcResource), "10"}, {"cpu", "100m"}};
  const std::string uid = create_pod(azure);
  create_pod(plain_pod("confcom", "plain"));
  auto c = client(config());
  ASSERT_TRUE(c);

  // In a list.
  auto list = c->get("/api/v1/namespaces/confcom/pods");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->status, 200u);
  PodDecoder decoder{core::PodRequestOptions{}};
  std::vector<core::ApiPod> pods;
  std::string body = list->body;
  ASSERT_TRUE(decoder.decode_list(body, pods).ok());
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].pod.uid, uid);
  EXPECT_EQ(pods[0].request.epc_bytes, 10 * kMi);
  EXPECT_EQ(pods[0].node, "node-a");

  // As a watch event (the object the server sends, wrapped as a watch line).
  auto one = c->get("/api/v1/namespaces/confcom/pods/azure-app");
  ASSERT_TRUE(one.ok()) << one.error().message;
  std::string object = one->body;
  while (!object.empty() && object.back() == '\n') {
    object.pop_back();
  }
  const std::string line = R"({"type":"MODIFIED","object":)" + object + "}";
  PodEvent event;
  auto decoded = decoder.decode_event(line, event);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(event.sgx);
  EXPECT_EQ(event.type, WatchEventType::kModified);
  EXPECT_EQ(event.pod.request.epc_bytes, 10 * kMi);

  // Without the alias configured, the same pod is no SGX pod.
  core::PodRequestOptions no_alias;
  no_alias.epc_aliases.clear();
  PodDecoder strict{no_alias};
  auto plain = strict.decode_event(line, event);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(event.sgx);
}

TEST_F(DecoderStandinTest, NodeReadinessUnschedulableAndAliasFromTheStandin) {
  standins::NodeSpec sgx = node_spec(
      "sgx-1", {{"sgx.intel.com/epc", "8Gi"}, {"sgx.intel.com/enclave", "110"}, {"cpu", "8"}});
  sgx.ready = "False";
  sgx.unschedulable = true;
  ASSERT_TRUE(server_->add_node(sgx).ok());
  standins::NodeSpec azure =
      node_spec("azure-1", {{std::string(common::kAzureEpcResource), "168"}});
  azure.ready = "True";
  ASSERT_TRUE(server_->add_node(azure).ok());
  ASSERT_TRUE(server_->add_node(node_spec("plain-1", {{"cpu", "4"}})).ok());
  auto c = client(config());
  ASSERT_TRUE(c);
  auto list = c->get("/api/v1/nodes");
  ASSERT_TRUE(list.ok()) << list.error().message;
  NodeDecoder decoder{core::PodRequestOptions{}};
  std::vector<state::ApiNode> nodes;
  std::string body = list->body;
  ASSERT_TRUE(decoder.decode_list(body, nodes).ok());
  std::map<std::string, state::ApiNode> by_name;
  for (auto& node : nodes) {
    by_name[node.name] = node;
  }
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name["sgx-1"].epc_bytes, std::int64_t{8} << 30);
  EXPECT_EQ(by_name["sgx-1"].enclave_slots, 110);
  EXPECT_EQ(by_name["sgx-1"].provision_slots, std::nullopt);
  EXPECT_EQ(by_name["sgx-1"].readiness, state::NodeReadiness::kNotReady);
  EXPECT_TRUE(by_name["sgx-1"].unschedulable);
  EXPECT_EQ(by_name["azure-1"].epc_bytes, 168 * kMi);
  EXPECT_EQ(by_name["azure-1"].readiness, state::NodeReadiness::kReady);
  EXPECT_FALSE(by_name["plain-1"].advertises_sgx());
}

// =============================================================================================
// Informers feeding a ClusterState

class InformerTest : public StandinTest {
 protected:
  void SetUp() override {
    StandinTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    for (const auto& [name, epc] : std::vector<std::pair<std::string, std::string>>{
             {"node-a", "128Mi"}, {"node-b", "256Mi"}, {"node-c", "32Mi"}}) {
      ASSERT_TRUE(server_
                      ->add_node(node_spec(name, {{"sgx.intel.com/epc", epc},
                                                  {"sgx.intel.com/enclave", "20"},
                                                  {"sgx.intel.com/provision", "20"},
                                                  {"cpu", "8"}}))
                      .ok());
    }
    // The captures' starting pods, plus a high-priority pod and one asking through Azure's name.
    create_pod(sgx_pod("default", "sgx-bound-a", "64Mi", "node-a"));
    create_pod(plain_pod("default", "plain-bound-b", "node-b"));
    standins::PodSpec bound_c = sgx_pod("sgx-apps", "sgx-bound-c", "16Mi", "node-c");
    bound_c.priority = 1000;
    high_priority_uid_ = create_pod(bound_c);
    standins::PodSpec done = sgx_pod("sgx-apps", "sgx-done-a", "8Mi", "node-a");
    done.phase = "Succeeded";
    create_pod(done);
    create_pod(sgx_pod("sgx-apps", "sgx-pending-1", "32Mi"));
    create_pod(sgx_pod("sgx-apps", "sgx-pending-2", "16Mi"));
    create_pod(plain_pod("sgx-apps", "plain-pending"));
    standins::PodSpec azure = plain_pod("confcom", "azure-b", "node-b");
    azure.extra_requests = {{std::string(common::kAzureEpcResource), "10"}};
    create_pod(azure);

    state::ClusterState::Options options;
    options.api_configured = true;
    state_ = state::ClusterState::create(options);
    pod_target_ = std::make_unique<PodWatchTarget>(*state_, pod_request_);
    node_target_ = std::make_unique<NodeWatchTarget>(*state_, pod_request_);
  }

  void TearDown() override {
    pod_informer_.reset();
    node_informer_.reset();
  }

  static InformerOptions fast_options() {
    InformerOptions options;
    options.watch_timeout_s = 2;
    options.backoff_base_ms = 50;
    options.backoff_cap_ms = 2000;
    options.heartbeat_ms = 100;
    options.idle_timeout_ms = 5000;
    options.page_size = 3;
    return options;
  }

  void start_informers(InformerOptions options = fast_options(),
                       standins::KubeconfigUser user = standins::KubeconfigUser::kAdminToken,
                       const RestClientOptions& client_options = {}) {
    const KubeConfig kube = config(user);
    auto pods_client = client(kube, client_options);
    auto nodes_client = client(kube, client_options);
    ASSERT_TRUE(pods_client && nodes_client);
    pod_informer_ = std::make_unique<Informer>(std::move(pods_client), *pod_target_, options);
    options.seed ^= 0x5bd1e995;
    node_informer_ = std::make_unique<Informer>(std::move(nodes_client), *node_target_, options);
    node_informer_->start();
    pod_informer_->start();
  }

  // What the stand-in holds: Σ EPC of the bound, non-terminal SGX pods per SGX node, and their
  // uids.
  std::map<std::string, std::int64_t> expected_epc(std::set<std::string>* counted = nullptr) const {
    std::map<std::string, std::int64_t> epc = {{"node-a", 0}, {"node-b", 0}, {"node-c", 0}};
    for (const standins::PodView& pod : server_->pods()) {
      if (pod.node_name.empty() || pod.phase == "Succeeded" || pod.phase == "Failed") {
        continue;
      }
      std::int64_t bytes = 0;
      if (auto it = pod.requests.find(std::string(common::kEpcResource));
          it != pod.requests.end()) {
        bytes = quantity(it->second);
      } else if (auto alias = pod.requests.find(std::string(common::kAzureEpcResource));
                 alias != pod.requests.end()) {
        bytes = quantity(alias->second) * kMi;
      }
      if (bytes > 0) {
        epc[pod.node_name] += bytes;
        if (counted != nullptr) {
          counted->insert(pod.uid);
        }
      }
    }
    return epc;
  }

  std::map<std::string, std::int64_t> actual_epc(std::set<std::string>* counted = nullptr) const {
    const state::ClusterSnapshotPtr snapshot = state_->snapshot();
    std::map<std::string, std::int64_t> epc;
    for (std::uint32_t i = 0; i < snapshot->size(); ++i) {
      epc[std::string(snapshot->name(i))] = snapshot->row(i).epc_requested_bytes;
    }
    if (counted != nullptr) {
      for (const state::PodRecord& pod : snapshot->pods().all()) {
        counted->insert(pod.uid);
      }
    }
    return epc;
  }

  static std::string describe(const std::map<std::string, std::int64_t>& epc) {
    std::string out;
    for (const auto& [node, bytes] : epc) {
      out += node + "=" + std::to_string(bytes / kMi) + "Mi ";
    }
    return out;
  }

  // The state converges on the stand-in's content: the same per-node sums and the same pods.
  ::testing::AssertionResult converges(milliseconds deadline = kDeadline) const {
    const bool matched = eventually(
        [&] {
          std::set<std::string> expected_pods;
          std::set<std::string> actual_pods;
          return state_->snapshot()->sources_ready() &&
                 expected_epc(&expected_pods) == actual_epc(&actual_pods) &&
                 expected_pods == actual_pods;
        },
        deadline);
    if (matched) {
      return ::testing::AssertionSuccess();
    }
    std::set<std::string> expected_pods;
    std::set<std::string> actual_pods;
    const auto expected = expected_epc(&expected_pods);
    const auto actual = actual_epc(&actual_pods);
    return ::testing::AssertionFailure()
           << "ready=" << state_->snapshot()->sources_ready() << " expected " << describe(expected)
           << "(" << expected_pods.size() << " pods) but the state has " << describe(actual) << "("
           << actual_pods.size() << " pods); pod informer: lists=" << pod_informer_->lists()
           << " watches=" << pod_informer_->watches()
           << " last error: " << pod_informer_->last_error();
  }

  const state::PodRecord* record(const std::string& uid) const {
    snapshot_ = state_->snapshot();
    return snapshot_->pods().find(uid);
  }

  core::PodRequestOptions pod_request_;
  std::string high_priority_uid_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<PodWatchTarget> pod_target_;
  std::unique_ptr<NodeWatchTarget> node_target_;
  std::unique_ptr<Informer> pod_informer_;
  std::unique_ptr<Informer> node_informer_;
  mutable state::ClusterSnapshotPtr snapshot_;
};

TEST_F(InformerTest, FirstListsMakeTheStateReadyWithTheBoundSgxPods) {
  EXPECT_FALSE(state_->snapshot()->sources_ready());
  const std::size_t lists_before = server_->counters().lists;
  start_informers();
  ASSERT_TRUE(converges());
  const auto epc = actual_epc();
  EXPECT_EQ(epc.at("node-a"), 64 * kMi);  // sgx-done-a is Succeeded: not counted
  EXPECT_EQ(epc.at("node-b"), 10 * kMi);  // the Azure pod; plain-bound-b asks for nothing
  EXPECT_EQ(epc.at("node-c"), 16 * kMi);
  EXPECT_EQ(pod_informer_->lists(), 1u);
  EXPECT_EQ(node_informer_->lists(), 1u);
  EXPECT_TRUE(pod_informer_->synced());
  // 8 pods and 3 nodes in pages of 3: 3 + 1 list requests.
  EXPECT_EQ(server_->counters().lists - lists_before, 4u);

  const state::PodRecord* high = record(high_priority_uid_);
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->priority, 1000);
  EXPECT_EQ(high->node, "node-c");
  EXPECT_EQ(high->request.epc_bytes, 16 * kMi);
  EXPECT_TRUE(high->bound);

  // Capacity from the nodes' allocatable.
  const auto snapshot = state_->snapshot();
  const auto b = snapshot->find("node-b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(snapshot->row(*b).epc_capacity_bytes, 256 * kMi);
  EXPECT_EQ(snapshot->info(*b).capacity_source, state::CapacitySource::kNodeAllocatable);
}

TEST_F(InformerTest, LiveChangesAreCountedAndReleased) {
  start_informers();
  ASSERT_TRUE(converges());

  const std::string created = create_pod(sgx_pod("sgx-apps", "live-1", "32Mi", "node-b"));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-b"), 42 * kMi);
  ASSERT_NE(record(created), nullptr);

  ASSERT_TRUE(server_->set_pod_phase("sgx-apps", "live-1", "Succeeded").ok());
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-b"), 10 * kMi);
  EXPECT_EQ(record(created), nullptr);

  const std::string doomed = create_pod(sgx_pod("default", "live-2", "8Mi", "node-c"));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-c"), 24 * kMi);
  ASSERT_TRUE(server_->delete_pod("default", "live-2").ok());
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-c"), 16 * kMi);
  EXPECT_EQ(record(doomed), nullptr);

  // A pending pod bound through the API (a Binding POST): counted on its node.
  auto binder = client(config());
  ASSERT_TRUE(binder);
  const auto pending = server_->pod("sgx-apps", "sgx-pending-1");
  ASSERT_TRUE(pending.has_value());
  auto bound = binder->post(
      "/api/v1/namespaces/sgx-apps/pods/sgx-pending-1/binding",
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"sgx-pending-1","uid":")" +
          pending->uid + R"("},"target":{"apiVersion":"v1","kind":"Node","name":"node-c"}})");
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  ASSERT_EQ(bound->status, 201u);
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-c"), 48 * kMi);

  // Pods without SGX change nothing; an SGX change after them proves they were processed.
  const auto before = actual_epc();
  const std::string plain = create_pod(plain_pod("default", "plain-live", "node-a"));
  ASSERT_TRUE(server_->set_pod_phase("default", "plain-live", "Running").ok());
  ASSERT_TRUE(server_->delete_pod("default", "plain-live").ok());
  const std::size_t events_before = pod_informer_->events();
  const std::string marker = create_pod(sgx_pod("default", "marker", "4Mi", "node-a"));
  ASSERT_TRUE(converges());
  EXPECT_GE(pod_informer_->events() - events_before, 1u);
  auto after = actual_epc();
  EXPECT_EQ(after.at("node-a"), before.at("node-a") + 4 * kMi);
  after["node-a"] -= 4 * kMi;
  EXPECT_EQ(after, before);
  EXPECT_EQ(record(plain), nullptr);
  EXPECT_EQ(pod_informer_->lists(), 1u);
}

TEST_F(InformerTest, LiveEventsArriveBeforeTheWatchTimesOut) {
  // With a 30 s watch, a change must reach the state in well under the watch's lifetime.
  InformerOptions options = fast_options();
  options.watch_timeout_s = 30;
  start_informers(options);
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  const auto start = steady_clock::now();
  create_pod(sgx_pod("default", "prompt", "8Mi", "node-a"));
  EXPECT_TRUE(converges(5s)) << "a live ADDED took longer than 5 s to reach the state";
  EXPECT_LT(steady_clock::now() - start, 5s);
}

TEST_F(InformerTest, DroppedWatchResumesFromItsResourceVersionWithoutARelist) {
  start_informers();
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  const std::uint64_t lists = pod_informer_->lists();
  const std::uint64_t watches = pod_informer_->watches();
  const std::uint64_t expired = pod_informer_->relists_after_expiry();
  const std::size_t server_lists = server_->counters().lists;

  server_->drop_watches();
  // drop_watches() has unregistered the streams: these changes reach the informer only through
  // the next watch, from the history after its resource version.
  create_pod(sgx_pod("default", "while-down", "12Mi", "node-b"));
  ASSERT_TRUE(server_->set_pod_phase("default", "sgx-bound-a", "Failed").ok());
  ASSERT_TRUE(server_->delete_pod("sgx-apps", "sgx-bound-c").ok());
  create_pod(plain_pod("default", "plain-while-down", "node-c"));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-a"), 0);
  EXPECT_EQ(actual_epc().at("node-b"), 22 * kMi);
  EXPECT_EQ(actual_epc().at("node-c"), 0);

  // Twice more, with changes each time.
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
    server_->drop_watches();
    create_pod(sgx_pod("default", "again-" + std::to_string(round), "2Mi", "node-c"));
    ASSERT_TRUE(converges());
  }
  EXPECT_EQ(actual_epc().at("node-c"), 4 * kMi);
  EXPECT_EQ(pod_informer_->lists(), lists);
  EXPECT_EQ(pod_informer_->relists_after_expiry(), expired);
  EXPECT_GT(pod_informer_->watches(), watches);
  EXPECT_EQ(server_->counters().lists, server_lists);
}

TEST_F(InformerTest, RestartGivesTheNextWatch410AndARelist) {
  start_informers();
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  const std::uint64_t pod_lists = pod_informer_->lists();
  const std::uint64_t node_lists = node_informer_->lists();
  const std::uint64_t expired = pod_informer_->relists_after_expiry();

  // The informers are cut off while the cluster moves on, then the apiserver restarts and forgets
  // its history: their resource versions are older than anything it can replay.
  ASSERT_TRUE(server_->set_down(true).ok());
  create_pod(sgx_pod("sgx-apps", "after-restart", "20Mi", "node-a"));
  ASSERT_TRUE(server_->delete_pod("default", "sgx-bound-a").ok());
  ASSERT_TRUE(server_->set_pod_phase("confcom", "azure-b", "Succeeded").ok());
  ASSERT_TRUE(server_
                  ->update_node_allocatable(
                      "node-c", {{"sgx.intel.com/epc", "64Mi"}, {"sgx.intel.com/enclave", "20"}})
                  .ok());
  server_->restart();
  ASSERT_TRUE(server_->set_down(false).ok());

  ASSERT_TRUE(converges());
  EXPECT_TRUE(eventually([&] { return pod_informer_->relists_after_expiry() > expired; }));
  EXPECT_TRUE(eventually([&] { return node_informer_->relists_after_expiry() > 0; }));
  EXPECT_EQ(pod_informer_->lists(), pod_lists + 1);
  EXPECT_TRUE(eventually([&] { return node_informer_->lists() == node_lists + 1; }));
  EXPECT_EQ(actual_epc().at("node-a"), 20 * kMi);
  EXPECT_EQ(actual_epc().at("node-b"), 0);
  EXPECT_TRUE(eventually([&] {
    const auto snapshot = state_->snapshot();
    const auto c = snapshot->find("node-c");
    return c.has_value() && snapshot->row(*c).epc_capacity_bytes == 64 * kMi;
  }));
  // Back to watching from the new list's version.
  EXPECT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  create_pod(sgx_pod("default", "post-relist", "1Mi", "node-b"));
  EXPECT_TRUE(converges());
}

TEST_F(InformerTest, OversizedWatchEventRelistsAfterBackoffAndTheWatchGoesOn) {
  std::atomic<int> hits{0};
  RestClientOptions client_options;
  client_options.max_line_bytes = 32 * 1024;
  client_options.on_limit = [&hits](metrics::Limit limit) {
    hits += limit == metrics::Limit::kKubeWatchEvent ? 1 : 0;
  };
  start_informers(fast_options(), standins::KubeconfigUser::kAdminToken, client_options);
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  EXPECT_EQ(pod_informer_->lists(), 1u);

  // A pod whose watch event is over the bound: the watch ends, the event is lost, and the informer
  // lists again (the list's bound is the response size, not the event size), so the state still
  // converges on the pod.
  standins::PodSpec big = sgx_pod("sgx-apps", "big", "8Mi", "node-b");
  big.extra_bytes = 64 * 1024;
  create_pod(big);
  ASSERT_TRUE(converges());
  EXPECT_EQ(pod_informer_->lists(), 2u);
  EXPECT_EQ(hits.load(), 1);
  EXPECT_THAT(pod_informer_->last_error(), HasSubstr("kube.max_watch_event_size"));
  EXPECT_EQ(actual_epc().at("node-b"), 18 * kMi);

  // Watching again from the new list: small events flow as before, with no further relist.
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  create_pod(sgx_pod("default", "after-big", "2Mi", "node-c"));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-c"), 18 * kMi);
  EXPECT_EQ(pod_informer_->lists(), 2u);
  EXPECT_EQ(hits.load(), 1);
}

TEST_F(InformerTest, ApiserverDownRetriesWithBackoffAndRecovers) {
  start_informers();
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  const std::uint64_t pod_lists = pod_informer_->lists();
  const std::uint64_t pod_watches = pod_informer_->watches();
  const std::uint64_t node_watches = node_informer_->watches();
  const std::size_t requests = server_->counters().requests;

  ASSERT_TRUE(server_->set_down(true).ok());
  // A measurement window, not a synchronisation: how often do the informers try in 1 s?
  std::this_thread::sleep_for(1s);
  const std::uint64_t pod_attempts = pod_informer_->watches() - pod_watches;
  const std::uint64_t node_attempts = node_informer_->watches() - node_watches;
  EXPECT_EQ(server_->counters().requests, requests);
  // Backoff from 50 ms, doubling: at most ~6 attempts each in a second; a tight loop makes
  // thousands.
  EXPECT_GE(pod_attempts, 2u) << "the informer stopped retrying";
  EXPECT_LE(pod_attempts, 8u);
  EXPECT_GE(node_attempts, 2u);
  EXPECT_LE(node_attempts, 8u);
  EXPECT_THAT(pod_informer_->last_error(), HasSubstr("connect to https://127.0.0.1"));

  create_pod(sgx_pod("default", "during-outage", "6Mi", "node-a"));
  ASSERT_TRUE(server_->set_down(false).ok());
  ASSERT_TRUE(converges());
  EXPECT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  EXPECT_EQ(pod_informer_->lists(), pod_lists) << "history was kept: no relist needed";
  EXPECT_EQ(actual_epc().at("node-a"), 70 * kMi);
}

// kube-apiserver's priority-and-fairness or max-in-flight filters shedding load: the first lists
// get 429 with Retry-After: 1. The state stays unready (so the extender answers no SGX filter)
// and the informers wait what the server asked, not their own 50 ms backoff, then sync.
TEST_F(InformerTest, TooManyRequestsOnTheFirstListsKeepsItUnreadyAndHonoursRetryAfter) {
  server_->fail_next_reads(4, 429);
  const auto start = steady_clock::now();
  start_informers();
  ASSERT_TRUE(eventually(
      [&] { return pod_informer_->last_error().find("HTTP 429") != std::string::npos; }));
  EXPECT_FALSE(state_->snapshot()->sources_ready());
  ASSERT_TRUE(converges());
  EXPECT_EQ(server_->counters().responses_by_status.at(429), 4u);
  // Four refusals over two informers, each followed by a 1 s wait: at least two rounds. With the
  // Retry-After ignored the informers would be ready after ~150 ms.
  EXPECT_GE(steady_clock::now() - start, 1500ms);
}

// 500s while the watches are down: the informers retry with backoff, keep what they had (the
// state stays ready: its content is as of the last event, as kube-scheduler's own cache is) and
// converge on what changed meanwhile.
TEST_F(InformerTest, InternalErrorsAfterADroppedWatchAreRetriedAndNothingIsLost) {
  start_informers();
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  server_->fail_next_reads(6, 500);
  server_->drop_watches();
  create_pod(sgx_pod("default", "during-500s", "6Mi", "node-a"));
  ASSERT_TRUE(eventually([&] {
    const auto counters = server_->counters();
    return counters.responses_by_status.count(500) != 0 &&
           counters.responses_by_status.at(500) == 6;
  }));
  EXPECT_TRUE(state_->snapshot()->sources_ready());
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual_epc().at("node-a"), 70 * kMi);
  EXPECT_TRUE(server_->wait_for_open_watches(2, kDeadline));
}

// A stalled apiserver (the connection is taken, nothing comes back): each list ends at the
// client's request timeout, the state stays unready, and once the server answers again the
// informers sync.
TEST_F(InformerTest, StalledListsTimeOutAndTheInformersSyncWhenTheServerAnswers) {
  server_->set_list_delay(3s);
  RestClientOptions client_options;
  client_options.request_timeout_ms = 300;
  start_informers(fast_options(), standins::KubeconfigUser::kAdminToken, client_options);
  ASSERT_TRUE(eventually([&] { return !pod_informer_->last_error().empty(); }));
  EXPECT_FALSE(state_->snapshot()->sources_ready());
  EXPECT_FALSE(pod_informer_->synced());
  EXPECT_EQ(pod_informer_->lists(), 0u) << pod_informer_->last_error();
  server_->set_list_delay(0ms);
  ASSERT_TRUE(converges());
}

TEST_F(InformerTest, ForbiddenListRetriesWithBackoffAndStaysUnready) {
  start_informers(fast_options(), standins::KubeconfigUser::kUnprivilegedToken);
  ASSERT_TRUE(eventually(
      [&] { return pod_informer_->last_error().find("HTTP 403") != std::string::npos; }));
  const auto counters = server_->counters();
  const std::size_t forbidden =
      counters.responses_by_status.count(403) != 0 ? counters.responses_by_status.at(403) : 0;
  std::this_thread::sleep_for(1s);  // a measurement window
  const auto later = server_->counters();
  const std::size_t more = later.responses_by_status.at(403) - forbidden;
  EXPECT_GE(more, 2u);
  EXPECT_LE(more, 16u) << "two informers, backoff from 50 ms";
  EXPECT_FALSE(state_->snapshot()->sources_ready());
  EXPECT_FALSE(pod_informer_->synced());
  EXPECT_EQ(pod_informer_->lists(), 0u);
}

TEST_F(InformerTest, StopEndsAnOpenWatchPromptly) {
  // Several rounds, each stopping right as the watches open (as a shutdown during a re-watch
  // does): stop() must not wait for the watch's idle timeout, whenever it comes.
  InformerOptions options = fast_options();
  options.watch_timeout_s = 60;
  options.idle_timeout_ms = 2000;
  int slow = 0;
  for (int round = 0; round < 8; ++round) {
    start_informers(options);
    if (round == 0) {
      ASSERT_TRUE(converges());
    }
    ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline)) << "round " << round;
    const auto start = steady_clock::now();
    pod_informer_->stop();
    node_informer_->stop();
    const auto took = steady_clock::now() - start;
    if (took >= 1s) {
      ++slow;
      ADD_FAILURE() << "round " << round << ": stop() took "
                    << std::chrono::duration_cast<milliseconds>(took).count()
                    << " ms (the idle timeout is " << options.idle_timeout_ms << " ms)";
    }
    pod_informer_->stop();  // idempotent
    ASSERT_TRUE(eventually([&] { return server_->counters().open_watches == 0; }));
    pod_informer_.reset();
    node_informer_.reset();
  }
  EXPECT_EQ(slow, 0);
}

TEST_F(InformerTest, ApiConnectionStartsBothInformers) {
  ApiConnection::Options options;
  options.kube = config();
  options.informer = fast_options();
  options.bind_workers = 1;
  auto api = ApiConnection::start(*state_, options);
  ASSERT_TRUE(api.ok()) << api.error().message;
  const bool ready = eventually([&] {
    std::set<std::string> expected_pods;
    std::set<std::string> actual_pods;
    return state_->snapshot()->sources_ready() &&
           expected_epc(&expected_pods) == actual_epc(&actual_pods) && expected_pods == actual_pods;
  });
  EXPECT_TRUE(ready) << describe(actual_epc()) << "vs " << describe(expected_epc());
  EXPECT_EQ((*api)->pod_informer().lists(), 1u);
  EXPECT_EQ((*api)->node_informer().lists(), 1u);
  create_pod(sgx_pod("default", "via-connection", "16Mi", "node-b"));
  EXPECT_TRUE(eventually([&] { return actual_epc().at("node-b") == 26 * kMi; }));
  (*api)->stop();
  EXPECT_TRUE(eventually([&] { return server_->counters().open_watches == 0; }));
}

}  // namespace
}  // namespace epc::kube
