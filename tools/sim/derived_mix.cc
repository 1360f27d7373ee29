#include "tools/sim/derived_mix.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace epc::tools::sim {
namespace {

constexpr std::array<std::pair<MixKind, std::string_view>, 4> kNames{{
    {MixKind::kAsListed, "as-listed"},
    {MixKind::kSmallPods, "small-pods"},
    {MixKind::kCpuHeavy, "cpu-heavy"},
    {MixKind::kLargePods, "large-pods"},
}};

std::int64_t median_node_epc(std::span<const SimNode> nodes) {
  std::vector<std::int64_t> epc;
  epc.reserve(nodes.size());
  for (const SimNode& node : nodes) {
    epc.push_back(node.epc_bytes);
  }
  if (epc.empty()) {
    return 0;
  }
  const auto middle = epc.begin() + static_cast<std::ptrdiff_t>(epc.size() / 2);
  std::nth_element(epc.begin(), middle, epc.end());
  return *middle;
}

// Shares of the cluster in double: sums of up to millions of int64 values, compared only.
struct Totals {
  double cpu = 0;
  double epc = 0;
};

Totals cluster_totals(std::span<const SimNode> nodes) {
  Totals totals;
  for (const SimNode& node : nodes) {
    totals.cpu += static_cast<double>(node.cpu_milli);
    totals.epc += static_cast<double>(node.epc_bytes);
  }
  return totals;
}

common::Result<std::vector<SimPod>> cpu_heavy(std::span<const SimPod> pods,
                                              std::span<const SimNode> nodes) {
  const Totals cluster = cluster_totals(nodes);
  if (cluster.cpu <= 0 || cluster.epc <= 0) {
    return common::Error{"cpu-heavy mix: the cluster has no CPU or no EPC"};
  }
  Totals rest;      // shares of the pods kept once
  Totals dominant;  // shares of the CPU-dominant pods (repeated)
  for (const SimPod& pod : pods) {
    const double cpu = static_cast<double>(pod.cpu_milli) / cluster.cpu;
    const double epc = static_cast<double>(pod.epc_bytes) / cluster.epc;
    Totals& into = cpu > epc ? dominant : rest;
    into.cpu += cpu;
    into.epc += epc;
  }
  int repeat = 1;
  while (rest.cpu + repeat * dominant.cpu < rest.epc + repeat * dominant.epc) {
    if (++repeat > kMaxCpuHeavyRepeat) {
      return common::Error{
          "cpu-heavy mix: the pod list's CPU-dominant pods cannot make CPU bind (" +
          std::to_string(kMaxCpuHeavyRepeat) + " repeats are not enough)"};
    }
  }
  std::vector<SimPod> out;
  for (const SimPod& pod : pods) {
    const bool is_dominant = static_cast<double>(pod.cpu_milli) / cluster.cpu >
                             static_cast<double>(pod.epc_bytes) / cluster.epc;
    for (int r = 0; r < (is_dominant ? repeat : 1); ++r) {
      out.push_back(pod);
    }
  }
  return out;
}

}  // namespace

std::optional<MixKind> mix_from_name(std::string_view name) {
  for (const auto& [kind, text] : kNames) {
    if (text == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::string_view mix_name(MixKind kind) {
  for (const auto& [k, text] : kNames) {
    if (k == kind) {
      return text;
    }
  }
  return "?";
}

common::Result<std::vector<SimPod>> derive_mix(MixKind kind, std::span<const SimPod> pods,
                                               std::span<const SimNode> nodes) {
  std::vector<SimPod> out;
  const std::int64_t median_epc = median_node_epc(nodes);
  switch (kind) {
    case MixKind::kAsListed:
      out.assign(pods.begin(), pods.end());
      break;
    case MixKind::kSmallPods:
      for (const SimPod& pod : pods) {
        if (pod.epc_bytes <= median_epc / 8) {
          out.push_back(pod);
        }
      }
      break;
    case MixKind::kLargePods:
      for (const SimPod& pod : pods) {
        const int copies = pod.epc_bytes >= median_epc / 4 ? kLargePodRepeat : 1;
        for (int r = 0; r < copies; ++r) {
          out.push_back(pod);
        }
      }
      break;
    case MixKind::kCpuHeavy: {
      common::Result<std::vector<SimPod>> heavy = cpu_heavy(pods, nodes);
      if (!heavy) {
        return heavy;
      }
      out = std::move(heavy).value();
      break;
    }
  }
  if (out.empty()) {
    return common::Error{"the " + std::string(mix_name(kind)) + " mix has no pod in this list"};
  }
  return out;
}

}  // namespace epc::tools::sim
