#include "extender/kube/api_connection.h"

#include <utility>

namespace epc::kube {

ApiConnection::ApiConnection(state::ClusterState& state, Options options)
    : state_(state),
      options_(std::move(options)),
      limiter_(options_.qps, options_.burst),
      pod_target_(state, options_.pod_request),
      node_target_(state, options_.pod_request) {}

ApiConnection::~ApiConnection() { stop(); }

common::Result<std::unique_ptr<RestClient>> ApiConnection::new_client() {
  RestClientOptions client;
  client.user_agent = options_.user_agent;
  client.request_timeout_ms = options_.request_timeout_ms;
  client.max_body_bytes = options_.max_response_bytes;
  client.max_line_bytes = options_.max_watch_event_bytes;
  client.on_limit = options_.on_limit;
  client.limiter = &limiter_;
  return RestClient::create(options_.kube, client);
}

common::Result<std::shared_ptr<TokenReviewer>> ApiConnection::token_reviewer(
    std::string audience) const {
  RestClientOptions client;
  client.user_agent = options_.user_agent;
  client.request_timeout_ms = options_.request_timeout_ms;
  client.max_body_bytes = std::size_t{1} << 20;  // a TokenReview is a few KiB
  client.on_limit = options_.on_limit;
  auto created = RestClient::create(options_.kube, client);
  if (!created.ok()) {
    return created.error();
  }
  return std::shared_ptr<TokenReviewer>(
      std::make_shared<ApiTokenReviewer>(std::move(created).value(), std::move(audience)));
}

common::Result<std::unique_ptr<ApiConnection>> ApiConnection::start(state::ClusterState& state,
                                                                    Options options) {
  std::unique_ptr<ApiConnection> api(new ApiConnection(state, std::move(options)));
  auto pods_client = api->new_client();
  if (!pods_client.ok()) {
    return pods_client.error();
  }
  auto nodes_client = api->new_client();
  if (!nodes_client.ok()) {
    return nodes_client.error();
  }
  InformerOptions node_options = api->options_.informer;
  node_options.seed ^= 0x9e3779b97f4a7c15ULL;  // the two watches must not re-watch in step
  api->pod_informer_ = std::make_unique<Informer>(std::move(pods_client.value()), api->pod_target_,
                                                  api->options_.informer);
  api->node_informer_ =
      std::make_unique<Informer>(std::move(nodes_client.value()), api->node_target_, node_options);
  ApiConnection* raw = api.get();
  api->binder_ = std::make_unique<Binder>(
      state, [raw] { return raw->new_client(); },
      Binder::Options{.workers = api->options_.bind_workers});
  api->node_informer_->start();
  api->pod_informer_->start();
  return api;
}

void ApiConnection::stop() {
  binder_.reset();
  if (pod_informer_) {
    pod_informer_->stop();
  }
  if (node_informer_) {
    node_informer_->stop();
  }
}

}  // namespace epc::kube
