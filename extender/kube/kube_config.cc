#include "extender/kube/kube_config.h"

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

namespace epc::kube {

namespace {

common::Result<std::string> read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return common::Error{"cannot read " + std::string(what) + " " + path};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

common::Result<std::string> decode_base64(std::string_view text, std::string_view what) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
      compact.push_back(c);
    }
  }
  if (compact.size() % 4 != 0) {
    return common::Error{std::string(what) + " is not valid base64"};
  }
  std::string out(compact.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(compact.data()),
                                static_cast<int>(compact.size()));
  if (n < 0) {
    return common::Error{std::string(what) + " is not valid base64"};
  }
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = compact.size(); i > 0 && compact[i - 1] == '='; --i) {
    --size;
  }
  out.resize(size);
  return out;
}

std::string resolve(const std::filesystem::path& dir, const std::string& file) {
  const std::filesystem::path p(file);
  return p.is_absolute() ? file : (dir / p).string();
}

std::string scalar(const YAML::Node& map, const char* key) {
  if (!map || !map.IsMap()) {
    return {};  // operator[] on a scalar or a sequence throws
  }
  const YAML::Node value = map[key];
  return value && value.IsScalar() ? value.as<std::string>() : std::string();
}

// A named entry of a kubeconfig list (clusters, users, contexts): its inner map.
YAML::Node find_named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) {
    return {};
  }
  for (const YAML::Node& item : list) {
    if (item.IsMap() && scalar(item, "name") == name) {
      return item[inner];
    }
  }
  return {};
}

// `<key>-data` (base64) wins over `<key>` (a file), as in client-go.
common::Result<std::string> data_or_file(const YAML::Node& map, const std::string& key,
                                         const std::filesystem::path& dir) {
  if (const std::string data = scalar(map, (key + "-data").c_str()); !data.empty()) {
    return decode_base64(data, key + "-data");
  }
  if (const std::string file = scalar(map, key.c_str()); !file.empty()) {
    return read_file(resolve(dir, file), key);
  }
  return std::string();
}

}  // namespace

InClusterEnvironment InClusterEnvironment::from_process() {
  InClusterEnvironment environment;
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) {
    environment.service_host = host;
  }
  if (const char* port = std::getenv("KUBERNETES_SERVICE_PORT")) {
    environment.service_port = port;
  }
  return environment;
}

common::Result<KubeConfig> parse_server_url(std::string_view url, KubeConfig base) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return common::Error{"server \"" + std::string(url) +
                         "\" must be an https:// URL (the API is never spoken in plain text)"};
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  base.base_path =
      slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
  while (!base.base_path.empty() && base.base_path.back() == '/') {
    base.base_path.pop_back();
  }
  std::string_view host = authority;
  std::string_view port = "443";
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return common::Error{"server \"" + std::string(url) + "\": unterminated IPv6 address"};
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return common::Error{"server \"" + std::string(url) + "\": bad port"};
      }
      port = authority.substr(close + 2);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    return common::Error{"server \"" + std::string(url) + "\" has no valid host and port"};
  }
  base.host = std::string(host);
  base.port = std::string(port);
  if (base.server_name.empty()) {
    base.server_name = base.host;
  }
  return base;
}

common::Result<KubeConfig> load_in_cluster(const InClusterEnvironment& environment) {
  if (environment.service_host.empty() || environment.service_port.empty()) {
    return common::Error{
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
        "set (give --kubeconfig to run outside)"};
  }
  KubeConfig config;
  config.host = environment.service_host;
  config.port = environment.service_port;
  config.server_name = "kubernetes.default.svc";
  config.token_file = environment.account_dir + "/token";
  if (!std::filesystem::exists(config.token_file)) {
    return common::Error{"service account token " + config.token_file + " is missing"};
  }
  auto ca = read_file(environment.account_dir + "/ca.crt", "service account CA");
  if (!ca.ok()) {
    return ca.error();
  }
  config.ca_pem = std::move(ca.value());
  config.origin = "in-cluster";
  return config;
}

common::Result<KubeConfig> load_kubeconfig(const std::string& path, std::string_view context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return common::Error{"kubeconfig " + path + ": " + e.what()};
  }
  if (!root.IsMap()) {
    return common::Error{"kubeconfig " + path +
                         ": not a kubeconfig (its top level must be a mapping with clusters, "
                         "users and contexts)"};
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::string context_name(context);
  if (context_name.empty()) {
    context_name = scalar(root, "current-context");
  }
  if (context_name.empty()) {
    return common::Error{"kubeconfig " + path + " has no current-context (name one)"};
  }
  const YAML::Node ctx = find_named(root["contexts"], context_name, "context");
  if (!ctx || !ctx.IsMap()) {
    return common::Error{"kubeconfig " + path + ": no context named \"" + context_name + "\""};
  }
  const std::string cluster_name = scalar(ctx, "cluster");
  const std::string user_name = scalar(ctx, "user");
  const YAML::Node cluster = find_named(root["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster.IsMap()) {
    return common::Error{"kubeconfig " + path + ": context \"" + context_name +
                         "\" names cluster \"" + cluster_name + "\", which is not defined"};
  }

  KubeConfig config;
  config.server_name = scalar(cluster, "tls-server-name");
  config.insecure_skip_tls_verify = scalar(cluster, "insecure-skip-tls-verify") == "true";
  auto ca = data_or_file(cluster, "certificate-authority", dir);
  if (!ca.ok()) {
    return common::Error{"kubeconfig " + path + ": " + ca.error().message};
  }
  config.ca_pem = std::move(ca.value());
  auto parsed = parse_server_url(scalar(cluster, "server"), std::move(config));
  if (!parsed.ok()) {
    return common::Error{"kubeconfig " + path + ": " + parsed.error().message};
  }
  config = std::move(parsed.value());

  if (!user_name.empty()) {
    const YAML::Node user = find_named(root["users"], user_name, "user");
    if (!user || !user.IsMap()) {
      return common::Error{"kubeconfig " + path + ": context \"" + context_name +
                           "\" names user \"" + user_name + "\", which is not defined"};
    }
    if (user["exec"] || user["auth-provider"]) {
      return common::Error{"kubeconfig " + path + ": user \"" + user_name +
                           "\" uses an exec or auth-provider plugin, which epc-extender does not "
                           "run; give it a token, tokenFile or client certificate"};
    }
    config.token = scalar(user, "token");
    if (const std::string file = scalar(user, "tokenFile"); !file.empty()) {
      config.token_file = resolve(dir, file);
    }
    auto cert = data_or_file(user, "client-certificate", dir);
    auto key = data_or_file(user, "client-key", dir);
    if (!cert.ok() || !key.ok()) {
      return common::Error{"kubeconfig " + path + ": " +
                           (!cert.ok() ? cert.error().message : key.error().message)};
    }
    if (cert->empty() != key->empty()) {
      return common::Error{"kubeconfig " + path + ": user \"" + user_name +
                           "\" needs both a client certificate and its key"};
    }
    config.client_cert_pem = std::move(cert.value());
    config.client_key_pem = std::move(key.value());
  }
  config.origin = path + " context " + context_name;
  return config;
}

}  // namespace epc::kube
