#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "extender/core/node_row.h"
#include "extender/state/snapshot.h"

namespace epc::metrics {

enum class Verb : std::uint8_t { kFilter, kPrioritize, kOther };
enum class Outcome : std::uint8_t { kOk, kError };

// The extender's Prometheus metrics. prometheus-cpp stays behind this interface: HTTP code never
// includes a prometheus header. Families and per-verb children are registered once in create();
// the request path only bumps pre-registered references.
//
// Thread-safety: observe_request() from any thread; refresh_nodes() from the state writer only;
// serialize() from any thread.
class Metrics {
 public:
  static std::unique_ptr<Metrics> create();
  virtual ~Metrics() = default;

  virtual void observe_request(Verb verb, Outcome outcome, double seconds) = 0;

  // Per-node gauges (EPC capacity, requested, free, live use, slots, report age); adds series for
  // new nodes and removes them for nodes that left.
  virtual void refresh_nodes(const state::Snapshot& snapshot, std::int64_t now_ns,
                             const core::NodeAccounting& accounting) = 0;

  // Prometheus text exposition format 0.0.4 of everything registered.
  virtual std::string serialize() const = 0;
};

}  // namespace epc::metrics
