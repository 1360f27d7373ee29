#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace epc::deviceplugin::report {

// How the plugin proves itself to the extender and checks the extender (docs/security.md).
// Every field empty: plain text, no credential.
struct ExtenderTls {
  std::string ca_file;           // set: TLS, the extender's certificate must chain to this CA
  std::string server_name;       // the name its certificate must carry; empty: the target's host
  std::string token_file;        // a bearer token sent with each stream (grpc.auth token)
  std::string client_cert_file;  // this node's certificate and key (grpc.auth mtls)
  std::string client_key_file;
};

// The credentials of one connection, read from the files now: a stream opened after kubelet
// rotated the token, or cert-manager the certificate, uses the new ones.
struct ConnectionCredentials {
  std::shared_ptr<grpc::ChannelCredentials> channel;
  std::string server_name;   // empty: verify against the target's host
  std::string bearer_token;  // empty: none
};

// An unreadable or empty file is an error naming it (the stream retries after its backoff).
common::Result<ConnectionCredentials> load_connection_credentials(const ExtenderTls& tls);

}  // namespace epc::deviceplugin::report
