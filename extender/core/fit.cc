#include "extender/core/fit.h"

// fit() is defined inline in fit.h: it runs once per candidate node per request, and inlined into
// the handlers' loops it costs a few compares. This translation unit keeps the header
// self-contained (it must compile on its own) and pins the reason list.

namespace epc::core {

static_assert(static_cast<int>(FitReason::kInsufficientProvisionSlots) + 1 == kFitReasonCount,
              "kFitReasonCount must count every FitReason");

}  // namespace epc::core
