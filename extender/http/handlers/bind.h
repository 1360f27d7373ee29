#pragma once

#include <string>
#include <string_view>

#include "extender/http/bind_port.h"

namespace epc::http::handlers {

// The ExtenderBindingResult for a finished bind: {"Error":""} when bound, else the reason, e.g.
//   {"Error":"pod prod/app-0 no longer fits node sgx-a: insufficient free SGX EPC (needs 512Mi,
//    256Mi free)"}
// kube-scheduler then runs Unreserve and re-queues the pod; nothing was bound.
void write_bind_result(const BindOutcome& outcome, std::string_view pod, std::string_view node,
                       std::string& reply);

// {"Error":"<message>"}.
void write_bind_error(std::string_view message, std::string& reply);

}  // namespace epc::http::handlers
