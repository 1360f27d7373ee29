#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epc::reports {

// How the report service learns which node a stream may report for (grpc.auth;
// docs/security.md).
enum class IdentityMode : std::uint8_t {
  kNone,   // any stream may report for any node (within grpc.stream_max_nodes)
  kToken,  // the stream's bearer token, reviewed by kube-apiserver (TokenAuthenticator)
  kMtls,   // the verified client certificate: CN "system:node:<node>"
};

// The node a stream proved it is, and until when.
struct StreamIdentity {
  std::string node;
  std::string subject;              // who proved it, for refusals and logs
  std::int64_t expires_unix_s = 0;  // the credential's own end; 0 = none known
};

// The node a client certificate names in the kubelet convention, common name
// "system:node:<node>"; nullopt for any other name (or an empty node).
std::optional<std::string> node_of_common_name(std::string_view common_name);

// The bearer token of an "authorization" metadata value ("Bearer <token>", scheme
// case-insensitive); nullopt when it is not one.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace epc::reports
