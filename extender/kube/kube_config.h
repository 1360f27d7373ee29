#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace epc::kube {

// How to reach and authenticate to kube-apiserver: what a kubeconfig context or the in-cluster
// service account says, resolved to values (files read, base64 decoded).
struct KubeConfig {
  std::string host;  // name or address; IPv6 without brackets
  std::string port = "443";
  std::string base_path;  // a server URL's path ("https://h/k8s/clusters/x" → "/k8s/clusters/x")
  // Name checked in the server certificate (and sent as SNI when it is a DNS name): the
  // kubeconfig's tls-server-name, else the host.
  std::string server_name;
  std::string ca_pem;  // empty: the system's trust store
  bool insecure_skip_tls_verify = false;
  std::string token;       // a fixed bearer token
  std::string token_file;  // re-read when it changes (projected service account tokens rotate)
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string origin;  // where this came from, for logs: "in-cluster" or "<file> context <name>"
};

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service account's token and
// CA under `account_dir` (normally /var/run/secrets/kubernetes.io/serviceaccount).
struct InClusterEnvironment {
  std::string service_host;  // $KUBERNETES_SERVICE_HOST
  std::string service_port;  // $KUBERNETES_SERVICE_PORT
  std::string account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

  static InClusterEnvironment from_process();  // reads the environment variables
};

common::Result<KubeConfig> load_in_cluster(const InClusterEnvironment& environment);

// A kubeconfig file: `context` (empty = current-context) → its cluster and user. Relative file
// paths are resolved against the kubeconfig's directory, as kubectl does. Supported user
// credentials: token, tokenFile, client-certificate(-data) + client-key(-data); exec and
// auth-provider plugins are refused with a clear error.
common::Result<KubeConfig> load_kubeconfig(const std::string& path, std::string_view context = {});

// "https://host:port/path" → host, port, base path. Only https is accepted.
common::Result<KubeConfig> parse_server_url(std::string_view url, KubeConfig base);

}  // namespace epc::kube
