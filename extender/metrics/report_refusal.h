#pragma once

#include <cstdint>

namespace epc::metrics {

// Why a report stream or a report was refused for want of a proven node identity (grpc.auth token
// or mtls; docs/security.md), counted in epc_extender_report_refusals_total{reason}. A plain enum,
// as Limit, so the report service names a refusal without knowing about Prometheus.
enum class ReportRefusal : std::uint8_t {
  kNoCredentials,   // token mode: the stream carried no bearer token
  kTokenInvalid,    // kube-apiserver's TokenReview did not authenticate it (forged, expired,
                    // revoked, wrong audience)
  kServiceAccount,  // authenticated, but not one of grpc.token.service_accounts
  kNoNode,          // authenticated, but the token names no node (Kubernetes < 1.30, or not a
                    // pod's token); mtls: no "system:node:" common name
  kReviewFailed,    // the TokenReview itself failed (API unreachable, 5xx): UNAVAILABLE, retried
  kWrongNode,       // a report for a node other than the stream's identity: error Ack
  kExpired,         // the stream's token expired: the stream ended (the plugin reconnects)
};

inline constexpr int kReportRefusalCount = 7;
static_assert(static_cast<int>(ReportRefusal::kExpired) + 1 == kReportRefusalCount,
              "kReportRefusalCount must follow the last ReportRefusal");

}  // namespace epc::metrics
