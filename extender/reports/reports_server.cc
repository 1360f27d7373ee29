#include "extender/reports/reports_server.h"

#include <chrono>
#include <climits>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "extender/reports/server_credentials.h"
#include "extender/reports/token_authenticator.h"

namespace epc::reports {

ReportsServer::ReportsServer(std::shared_ptr<TokenAuthenticator> authenticator,
                             std::unique_ptr<NodeReportsService> service, int port)
    : authenticator_(std::move(authenticator)), service_(std::move(service)), port_(port) {}

namespace {

IdentityMode identity_mode(config::ExtenderConfig::GrpcAuth auth) {
  switch (auth) {
    case config::ExtenderConfig::GrpcAuth::kToken:
      return IdentityMode::kToken;
    case config::ExtenderConfig::GrpcAuth::kMtls:
      return IdentityMode::kMtls;
    case config::ExtenderConfig::GrpcAuth::kNone:
      break;
  }
  return IdentityMode::kNone;
}

}  // namespace

common::Result<std::unique_ptr<ReportsServer>> ReportsServer::create(
    const config::ExtenderConfig& config, state::ClusterState& state, Hooks hooks) {
  if (config.grpc_max_message_bytes == 0 ||
      config.grpc_max_message_bytes > static_cast<std::size_t>(INT_MAX)) {
    return common::Error{"grpc max message size must be between 1 and " + std::to_string(INT_MAX) +
                         " bytes"};
  }
  const StreamLimits limits{.max_in_flight = config.grpc_stream_max_in_flight,
                            .max_streams = config.grpc_max_streams,
                            .max_messages_per_second = config.grpc_stream_max_rate,
                            .burst_messages = config.grpc_stream_burst,
                            .max_nodes_per_stream = config.grpc_stream_max_nodes};
  auto credentials = make_server_credentials(config);
  if (!credentials.ok()) {
    return credentials.error();
  }
  NodeReportsService::IdentityOptions identity{.mode = identity_mode(config.grpc_auth),
                                               .authenticator = nullptr,
                                               .observer = hooks.refusal_observer};
  std::shared_ptr<TokenAuthenticator> authenticator;
  if (identity.mode == IdentityMode::kToken) {
    if (hooks.reviewer == nullptr) {
      return common::Error{"grpc.auth token needs the Kubernetes API to review tokens"};
    }
    authenticator = std::make_shared<TokenAuthenticator>(
        hooks.reviewer,
        TokenAuthenticator::Options{.audience = config.grpc_token_audience,
                                    .service_accounts = config.grpc_token_service_accounts,
                                    .cache_ttl_s = config.grpc_token_cache_ttl_ms / 1000},
        hooks.refusal_observer);
    identity.authenticator = authenticator.get();
    credentials.value()->SetAuthMetadataProcessor(authenticator);
  }
  auto service =
      std::make_unique<NodeReportsService>(state, limits, std::move(hooks.observer),
                                           std::move(hooks.limit_observer), std::move(identity));
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(config.grpc_address, credentials.value(), &selected_port);
  // Larger messages fail their stream with RESOURCE_EXHAUSTED before any parsing (abuse bound).
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.grpc_max_message_bytes));
  // gRPC sets SO_REUSEPORT by default: a second extender on the same port would silently share
  // the plugins' streams with the first. Fail the bind instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    if (server != nullptr) {
      server->Shutdown();
    }
    return common::Error{"cannot listen for gRPC on " + config.grpc_address +
                         " (address in use or invalid)"};
  }
  std::unique_ptr<ReportsServer> out(
      new ReportsServer(std::move(authenticator), std::move(service), selected_port));
  out->server_ = std::move(server);
  return out;
}

ReportsServer::~ReportsServer() { shutdown(); }

void ReportsServer::shutdown() {
  if (server_ == nullptr) {
    return;
  }
  // Plugin streams never end by themselves: a deadline of "now" cancels them at once (plugins
  // reconnect with backoff). Then wait until every reactor is done before the service goes away.
  server_->Shutdown(std::chrono::system_clock::now());
  service_->wait_idle();
  server_->Wait();
  server_.reset();
}

}  // namespace epc::reports
