#include "extender/http/handlers/bind.h"

#include "common/byte_format.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/handlers/fit_reason_text.h"

namespace epc::http::handlers {

namespace {

// The figures behind a refusal: a bind error is one pod's event, so numbers help here (filter
// reasons stay number-free for the scheduler's aggregation).
std::string refusal_detail(const core::FitResult& fit) {
  switch (fit.reason) {
    case core::FitReason::kInsufficientEpc:
    case core::FitReason::kEpcCapacityTooSmall:
      return " (needs " + common::format_bytes(fit.requested) + ", " +
             common::format_bytes(fit.available) + " free)";
    case core::FitReason::kInsufficientEnclaveSlots:
    case core::FitReason::kInsufficientProvisionSlots:
    case core::FitReason::kEnclaveSlotsTooFew:
    case core::FitReason::kProvisionSlotsTooFew:
      return " (needs " + std::to_string(fit.requested) + ", " + std::to_string(fit.available) +
             " free)";
    default:
      return {};
  }
}

}  // namespace

void write_bind_error(std::string_view message, std::string& reply) {
  reply.clear();
  reply.append("{\"Error\":");
  codec::append_json_string(reply, message);
  reply.push_back('}');
}

void write_bind_result(const BindOutcome& outcome, std::string_view pod, std::string_view node,
                       std::string& reply) {
  if (outcome.bound) {
    reply.assign(R"({"Error":""})");
    return;
  }
  if (outcome.refused.has_value()) {
    std::string message = "pod ";
    message.append(pod).append(" no longer fits node ").append(node).append(": ");
    message.append(fit_reason_text(outcome.refused->reason));
    message.append(refusal_detail(*outcome.refused));
    write_bind_error(message, reply);
    return;
  }
  write_bind_error(outcome.error.empty() ? "bind failed" : outcome.error, reply);
}

}  // namespace epc::http::handlers
