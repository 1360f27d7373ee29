#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// Workload mixes built from one pod list, so that a study can ask how a policy does when the
// pods are mostly small, mostly large or hungry for CPU, on the same nodes and with the same kinds
// of pods a production trace has. Each is a rule on the list's own pods (selecting or repeating
// them), never new shapes, and reads the cluster only for its scale. Protocols draw from the list
// with replacement, so repeating a pod r times makes it r times as likely.
enum class MixKind {
  kAsListed,  // the pod list unchanged
  // Only the pods whose EPC is at most 1/8 of the median node's: many small enclaves, the case
  // where leaving holes that fit them matters most.
  kSmallPods,
  // The CPU-dominant pods (their share of the cluster's CPU is above their share of its EPC)
  // repeated r times, r the smallest count that makes the mix ask for at least as large a share of
  // the cluster's CPU as of its EPC: CPU and EPC then run out together, and a placement that
  // exhausts a node's CPU strands its EPC.
  kCpuHeavy,
  // The pods whose EPC is at least 1/4 of the median node's repeated 3 times: most of the EPC
  // demand comes in large pieces, which need large holes.
  kLargePods,
};

inline constexpr int kLargePodRepeat = 3;
inline constexpr int kMaxCpuHeavyRepeat = 100;

std::optional<MixKind> mix_from_name(std::string_view name);  // "as-listed", "small-pods", ...
std::string_view mix_name(MixKind kind);
// Every name, for --help and error messages.
inline constexpr std::string_view kMixNames = "as-listed, small-pods, cpu-heavy, large-pods";

// The mix `kind` built from `pods` for the cluster `nodes`. An empty result (no pod qualifies), or
// a CPU-heavy mix that cannot reach the CPU share within kMaxCpuHeavyRepeat repeats, is an error
// that says so.
common::Result<std::vector<SimPod>> derive_mix(MixKind kind, std::span<const SimPod> pods,
                                               std::span<const SimNode> nodes);

}  // namespace epc::tools::sim
