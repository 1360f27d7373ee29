#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/demo/demo_workload.h"

namespace epc::tools::demo {

struct NodeView;
struct FleetStats;

// What the scheduler player needs from the nodes: their names, and a way to land a pod on one so
// that the extender sees it before the next pod is scheduled. Two implementations: Fleet simulates
// the device plugins itself; PluginFleet runs real epc-device-plugin processes behind kubelet
// stand-ins.
class NodeFleet {
 public:
  virtual ~NodeFleet() = default;

  // Returns once the extender's state shows `pod` on `node` (or an Error).
  virtual common::Result<std::uint64_t> place(const std::string& node, const DemoPod& pod) = 0;
  virtual std::vector<std::string> node_names() const = 0;
  virtual std::vector<NodeView> views() const = 0;
  virtual FleetStats stats() const = 0;
};

}  // namespace epc::tools::demo
