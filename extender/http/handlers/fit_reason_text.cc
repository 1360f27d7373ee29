#include "extender/http/handlers/fit_reason_text.h"

namespace epc::http::handlers {

std::string_view fit_reason_text(core::FitReason reason) {
  switch (reason) {
    case core::FitReason::kFits:
      return "fits";
    case core::FitReason::kNoReport:
      return "no EPC report from node";
    case core::FitReason::kNoSgx:
      return "no SGX on node";
    case core::FitReason::kEpcCapacityTooSmall:
      return "SGX EPC capacity too small for pod";
    case core::FitReason::kEnclaveSlotsTooFew:
      return "too few SGX enclave slots on node";
    case core::FitReason::kProvisionSlotsTooFew:
      return "too few SGX provision slots on node";
    case core::FitReason::kStaleReport:
      return "EPC report too old";
    case core::FitReason::kUnhealthy:
      return "SGX devices unhealthy";
    case core::FitReason::kInsufficientEpc:
      return "insufficient free SGX EPC";
    case core::FitReason::kInsufficientEnclaveSlots:
      return "no free SGX enclave slots";
    case core::FitReason::kInsufficientProvisionSlots:
      return "no free SGX provision slots";
  }
  return "SGX fit check failed";
}

}  // namespace epc::http::handlers
