#pragma once

// An epc-extender assembled in-process the way main.cc assembles it (state writer, Kubernetes API
// connection, HTTP server with the bind verb), talking HTTPS to a stand-in kube-apiserver on
// 127.0.0.1. Tests play kube-scheduler against its HTTP port.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "extender/config/extender_config.h"
#include "extender/http/server.h"
#include "extender/kube/api_connection.h"
#include "extender/kube/kube_config.h"
#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"
#include "tools/standins/api_server_standin.h"
#include "tools/standins/temp_dir.h"

namespace epc::binding_test {

// Polls `done` every few milliseconds until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class ExtenderUnderTest {
 public:
  struct Options {
    std::int64_t reservation_ttl_ms = 30000;
    int http_threads = 2;
    int bind_workers = 8;
  };

  ExtenderUnderTest(tools::standins::ApiServerStandin& api, const std::string& kubeconfig_path,
                    Options options)
      : api_(api) {
    config_.http_port = 0;
    config_.http_threads = options.http_threads;
    config_.kube_kubeconfig = kubeconfig_path;
    config_.reservation_ttl_ms = options.reservation_ttl_ms;
    metrics_ =
        metrics::Metrics::create(metrics::Metrics::Options{config_.stale_after_ms * 1'000'000, {}});

    state::ClusterState::Options state_options;
    state_options.accounting.epc_headroom_bytes = config_.epc_headroom_bytes;
    state_options.stale_after_ns = config_.stale_after_ms * 1'000'000;
    state_options.reservation_ttl_ns = options.reservation_ttl_ms * 1'000'000;
    state_options.api_configured = true;
    state_options.pod_table_interval_ns = 20'000'000;  // as epc-extender runs
    state_ = state::ClusterState::create(std::move(state_options));

    auto kube = kube::load_kubeconfig(kubeconfig_path);
    if (!kube.ok()) {
      error_ = kube.error().message;
      return;
    }
    kube::ApiConnection::Options api_options;
    api_options.kube = std::move(kube.value());
    api_options.qps = 1000;
    api_options.burst = 1000;
    api_options.bind_workers = options.bind_workers;
    api_options.informer.watch_timeout_s = 30;
    api_options.informer.heartbeat_ms = 200;
    api_options.informer.backoff_base_ms = 50;
    auto connection = kube::ApiConnection::start(*state_, std::move(api_options));
    if (!connection.ok()) {
      error_ = connection.error().message;
      return;
    }
    connection_ = std::move(connection.value());
    auto server = http::HttpServer::create(config_, *state_, *metrics_, &connection_->binder());
    if (!server.ok()) {
      error_ = server.error().message;
      return;
    }
    server_ = std::move(server.value());
    server_->start();
  }

  ~ExtenderUnderTest() { stop(); }

  // Orderly shutdown, as main does: HTTP, then the API connection, then the writer.
  void stop() {
    if (server_) {
      server_->stop();
    }
    if (connection_) {
      connection_->stop();
    }
  }

  const std::string& error() const { return error_; }
  std::uint16_t port() const { return server_->port(); }
  state::ClusterState& state() { return *state_; }
  kube::ApiConnection& connection() { return *connection_; }

  bool wait_ready() {
    return eventually([this] { return state_->snapshot()->sources_ready(); });
  }

 private:
  tools::standins::ApiServerStandin& api_;
  config::ExtenderConfig config_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<kube::ApiConnection> connection_;
  std::unique_ptr<http::HttpServer> server_;
  std::string error_;
};

}  // namespace epc::binding_test
