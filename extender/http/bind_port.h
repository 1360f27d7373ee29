#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "extender/core/fit.h"
#include "extender/state/api_message.h"

namespace epc::http {

// How a bind ended, for the bind verb's reply.
struct BindOutcome {
  // What kind of failure, for the metrics (the reply says it in words).
  enum class Failure : std::uint8_t {
    kNone,            // bound
    kNoFit,           // `refused` is set
    kInvalidRequest,  // names that cannot be a pod or node, a pod nobody knows
    kApiRefused,      // kube-apiserver answered the Binding with an error status
    kApiUnreachable,  // no answer from kube-apiserver, or no client to ask it with
    kUnavailable,     // the extender is shutting down
  };

  bool bound = false;
  Failure failure = Failure::kNone;
  // Set when the state writer refused the reservation: the pod no longer fits the node.
  std::optional<core::FitResult> refused;
  std::string error;  // otherwise, why it failed (unknown pod, Binding refused, apiserver down)
};

// What the bind verb calls to bind a pod (extender/kube's Binder in binding mode). The HTTP layer
// knows only this interface, so it does not depend on the API client.
class BindPort {
 public:
  virtual ~BindPort() = default;
  // Never blocks; `done` runs once, on any thread.
  virtual void bind(state::BindRequest request, std::function<void(BindOutcome)> done) = 0;
};

}  // namespace epc::http
