// epc-extender: the SGX EPC-aware kube-scheduler extender.
//
// Startup: configuration (file + flags) -> metrics -> cluster state (its publications refresh the
// per-node metrics) -> Kubernetes API watch and binder (when configured) -> NodeReports gRPC
// server -> HTTP server. One line per listener, with the
// port actually bound, goes to stdout ("epc-extender: http listening on 127.0.0.1:8888"); tools
// and tests read it when they ask for port 0. SIGINT/SIGTERM stop everything in reverse order and
// exit 0. Exit 2: bad configuration; exit 1: a listener could not be opened.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <pthread.h>

#include "extender/config/load_extender_config.h"
#include "extender/core/score/policy.h"
#include "extender/http/server.h"
#include "extender/kube/api_connection.h"
#include "extender/kube/kube_config.h"
#include "extender/metrics/metrics.h"
#include "extender/reports/reports_server.h"
#include "extender/state/clock.h"
#include "extender/state/cluster_state.h"

namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;

// "host:port" with IPv6 hosts in brackets.
std::string host_port(const std::string& host, int port) {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

// The gRPC address with the bound port in place of the configured one ("127.0.0.1:0" -> the real
// port). Addresses without a TCP port (unix:...) are printed as configured.
std::string grpc_listen_address(const std::string& address, int port) {
  if (address.starts_with("unix:")) {
    return address;
  }
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return host_port(address, port);
  }
  return address.substr(0, colon) + ":" + std::to_string(port);
}

// How the report port is secured, for the startup line: plain text is said plainly.
std::string grpc_security(const epc::config::ExtenderConfig& config) {
  using GrpcAuth = epc::config::ExtenderConfig::GrpcAuth;
  if (config.grpc_tls_cert_file.empty()) {
    return "plain text, plugins not authenticated";
  }
  switch (config.grpc_auth) {
    case GrpcAuth::kToken:
      return "TLS, plugins prove their node with a ServiceAccount token for audience \"" +
             config.grpc_token_audience + "\"";
    case GrpcAuth::kMtls:
      return "TLS, plugins prove their node with a client certificate from " +
             config.grpc_tls_client_ca_file;
    case GrpcAuth::kNone:
      break;
  }
  return "TLS, plugins not authenticated";
}

// How the HTTP API is secured, for the startup line.
std::string http_security(const epc::config::ExtenderConfig& config) {
  if (config.http_tls_cert_file.empty()) {
    return "plain text";
  }
  return config.http_tls_client_ca_file.empty()
             ? "HTTPS, any client"
             : "HTTPS, clients need a certificate from " + config.http_tls_client_ca_file;
}

// The pod-mix half-life, shown beside the policy only when the policy reads it.
std::string mix_note(const epc::config::ExtenderConfig& config) {
  if (config.policy != epc::core::score::PolicyKind::kFragmentationAware) {
    return {};
  }
  return " (mix half-life " + std::to_string(config.mix_half_life_pods) + " pods)";
}

// The API connection's settings from the configuration; an error names what is wrong.
epc::common::Result<epc::kube::ApiConnection::Options> api_options(
    const epc::config::ExtenderConfig& config) {
  auto kube = config.kube_in_cluster
                  ? epc::kube::load_in_cluster(epc::kube::InClusterEnvironment::from_process())
                  : epc::kube::load_kubeconfig(config.kube_kubeconfig, config.kube_context);
  if (!kube.ok()) {
    return kube.error();
  }
  epc::kube::ApiConnection::Options options;
  options.kube = std::move(kube.value());
  options.qps = config.kube_qps;
  options.burst = static_cast<int>(config.kube_burst);
  options.request_timeout_ms = config.kube_request_timeout_ms;
  options.bind_workers = static_cast<int>(config.kube_bind_workers);
  options.pod_request = config.pod_request;
  options.max_watch_event_bytes = config.kube_max_watch_event_bytes;
  options.max_response_bytes = config.kube_max_response_bytes;
  // API-only nodes are as fresh as the node watch: beat well inside the staleness limit.
  if (config.stale_after_ms > 0) {
    options.informer.heartbeat_ms = std::max<std::int64_t>(config.stale_after_ms / 4, 100);
  }
  return options;
}

int run(const epc::config::ExtenderConfig& config) {
  // Block the stop signals in every thread (the servers' threads inherit this mask) so that only
  // the sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Declared in dependency order: destroyed in reverse (HTTP, reports, state, metrics).
  auto metrics = epc::metrics::Metrics::create(epc::metrics::Metrics::Options{
      config.stale_after_ms * kNsPerMs, config.capacity_shapes_epc_bytes});

  epc::state::ClusterState::Options state_options;
  state_options.request_memory_pods = config.request_memory_pods;
  // Only FragmentationAware reads the recent pod mix; other policies leave the writer without one.
  state_options.keep_pod_mix = config.policy == epc::core::score::PolicyKind::kFragmentationAware;
  state_options.mix_half_life_pods = static_cast<double>(config.mix_half_life_pods);
  const epc::core::NodeAccounting accounting{config.epc_headroom_bytes};
  state_options.accounting = accounting;
  state_options.stale_after_ns = config.stale_after_ms * kNsPerMs;
  state_options.reservation_ttl_ns = config.reservation_ttl_ms * kNsPerMs;
  state_options.hint_ttl_ns = config.hint_ttl_ms * kNsPerMs;
  state_options.api_configured = config.api_enabled();
  // preempt (the pod table's only reader) is rare; a watch busy with pod events is not.
  state_options.pod_table_interval_ns = 20 * kNsPerMs;
  auto state = epc::state::ClusterState::create(std::move(state_options));
  // /metrics reads the newest snapshot per scrape: no metrics work on the state writer.
  metrics->set_snapshot_source([&state = *state] { return state.snapshot(); }, accounting);

  std::unique_ptr<epc::kube::ApiConnection> api;
  if (config.api_enabled()) {
    auto options = api_options(config);
    if (!options.ok()) {
      std::cerr << "epc-extender: " << options.error().message << std::endl;
      return 2;
    }
    options.value().on_limit = [&metrics = *metrics](epc::metrics::Limit limit) {
      metrics.observe_limit(limit);
    };
    const std::string origin = options->kube.origin;
    auto started = epc::kube::ApiConnection::start(*state, std::move(options.value()));
    if (!started.ok()) {
      std::cerr << "epc-extender: " << started.error().message << std::endl;
      return 2;
    }
    api = std::move(started.value());
    std::cout << "epc-extender: watching pods and nodes through " << origin
              << "; bind verb on (binding mode)" << std::endl;
  }

  epc::reports::ReportsServer::Hooks hooks{
      .observer =
          [&metrics = *metrics](epc::state::ReportKind kind, epc::state::ReportResult result) {
            metrics.observe_report_message(kind, result);
          },
      .limit_observer = [&metrics =
                             *metrics](epc::metrics::Limit limit) { metrics.observe_limit(limit); },
      .refusal_observer =
          [&metrics = *metrics](epc::metrics::ReportRefusal reason) {
            metrics.observe_report_refusal(reason);
          },
      .reviewer = nullptr};
  if (config.grpc_auth == epc::config::ExtenderConfig::GrpcAuth::kToken) {
    auto reviewer = api->token_reviewer(config.grpc_token_audience);
    if (!reviewer.ok()) {
      std::cerr << "epc-extender: " << reviewer.error().message << std::endl;
      return 2;
    }
    hooks.reviewer = std::move(reviewer).value();
  }
  auto reports = epc::reports::ReportsServer::create(config, *state, std::move(hooks));
  if (!reports.ok()) {
    std::cerr << "epc-extender: " << reports.error().message << std::endl;
    return 1;
  }

  auto http =
      epc::http::HttpServer::create(config, *state, *metrics, api ? &api->binder() : nullptr);
  if (!http.ok()) {
    std::cerr << "epc-extender: " << http.error().message << std::endl;
    return 1;
  }
  http.value()->start();

  std::cout << "epc-extender: http listening on "
            << host_port(config.http_address, http.value()->port()) << " (" << http_security(config)
            << ")\n"
            << "epc-extender: grpc listening on "
            << grpc_listen_address(config.grpc_address, reports.value()->port()) << " ("
            << grpc_security(config) << ")\n"
            << "epc-extender: policy " << epc::core::score::policy_name(config.policy)
            << mix_note(config) << ", url prefix \"" << config.url_prefix << "\", stale after "
            << config.stale_after_ms << " ms" << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "epc-extender: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ", shutting down" << std::endl;

  http.value()->stop();
  if (api) {
    api->stop();
  }
  reports.value()->shutdown();
  state->flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto config = epc::config::load_extender_config(argc, argv);
  if (!config.ok()) {
    std::cerr << "epc-extender: " << config.error().message << "\n"
              << "Run `epc-extender --help` for the options." << std::endl;
    return 2;
  }
  if (config->help_requested) {
    std::cout << epc::config::help_text();
    return 0;
  }
  if (config->check_requested) {
    std::cout << "epc-extender: the configuration is valid" << std::endl;
    return 0;
  }
  return run(*config);
}
