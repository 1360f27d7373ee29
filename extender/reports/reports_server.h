#pragma once

#include <memory>

#include "common/result.h"
#include "extender/config/extender_config.h"
#include "extender/reports/node_reports_service.h"
#include "extender/state/cluster_state.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace epc::kube {
class TokenReviewer;
}  // namespace epc::kube

namespace epc::reports {

class TokenAuthenticator;

// The gRPC server the device plugins stream their NodeReports into.
//
// create() binds config.grpc_address with the credentials of grpc.tls.* and grpc.auth
// (server_credentials.h; with grpc.auth token a TokenAuthenticator checks every call's token)
// ("127.0.0.1:0" picks a free port: see port()) and starts serving on gRPC's callback threads, with
// the config's bounds: grpc_max_message_bytes (gRPC itself ends a stream that sends a larger
// message, RESOURCE_EXHAUSTED, before any parsing) and the StreamLimits of NodeReportsService
// (streams, message rate, nodes per stream). shutdown() (also run by the destructor) cancels every
// open stream and returns once all of them are done, so `state` is no longer touched afterwards.
//
// Lifetime: `state` must outlive the server. Thread-safety: port() from any thread; shutdown()
// from one thread.
class ReportsServer {
 public:
  // grpc.auth token needs `reviewer` (kube-apiserver's TokenReview through the API client);
  // create() fails without one.
  struct Hooks {
    NodeReportsService::MessageObserver observer;
    NodeReportsService::LimitObserver limit_observer;
    NodeReportsService::RefusalObserver refusal_observer;
    std::shared_ptr<kube::TokenReviewer> reviewer;
  };
  static common::Result<std::unique_ptr<ReportsServer>> create(const config::ExtenderConfig& config,
                                                               state::ClusterState& state,
                                                               Hooks hooks = {});
  ~ReportsServer();

  ReportsServer(const ReportsServer&) = delete;
  ReportsServer& operator=(const ReportsServer&) = delete;

  // The bound TCP port (the chosen one when the address asked for port 0).
  int port() const { return port_; }

  void shutdown();

 private:
  ReportsServer(std::shared_ptr<TokenAuthenticator> authenticator,
                std::unique_ptr<NodeReportsService> service, int port);

  std::shared_ptr<TokenAuthenticator> authenticator_;  // outlives service_ (grpc.auth token)
  std::unique_ptr<NodeReportsService> service_;        // outlives server_
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace epc::reports
