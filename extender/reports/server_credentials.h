#pragma once

#include <memory>

#include "common/result.h"
#include "extender/config/extender_config.h"

namespace grpc {
class ServerCredentials;
}  // namespace grpc

namespace epc::reports {

// The credentials of the report port (grpc.tls.*, grpc.auth): plain text when no certificate is
// configured; otherwise TLS 1.2+ whose certificate, key and (mtls) client CA gRPC re-reads every
// tls.reload_period, so a rotated certificate is served to new connections while open streams
// keep theirs. With grpc.auth mtls a client certificate signed by the CA is required in the
// handshake.
//
// The files are checked here first (readable PEM, key matching the certificate, CA parseable):
// gRPC's file watcher would otherwise fail every handshake silently. Errors name the file and
// OpenSSL's reason.
common::Result<std::shared_ptr<grpc::ServerCredentials>> make_server_credentials(
    const config::ExtenderConfig& config);

}  // namespace epc::reports
