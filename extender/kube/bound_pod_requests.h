#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "extender/core/checked_math.h"
#include "extender/kube/api_objects.h"
#include "extender/state/api_message.h"

namespace epc::kube {

// The CPU and memory requests of every pod bound to a node (SGX or not), by UID, summed per node:
// what the pod watch target keeps so that the state writer is sent per-node totals, not every pod
// of the cluster. Keyed by UID because a DELETED event, a terminal phase or a relist must take back
// exactly what the pod added, whatever its object says by then.
//
// Memory: one hash entry per counted pod: the UID as its 128 bits when it is a lowercase UUID (as
// kube-apiserver makes them; any other UID is kept as text), the node as a 4-byte index into a
// directory of node names, the two requests. With libstdc++'s hash nodes that is 64 bytes per
// pod (measured with mallinfo2, bucket array included): 6.4 MB for 100k pods. Node sums are
// 128-bit, so adding and taking back absurd requests is exact; they saturate only on the way out.
//
// Thread-safety: none (the pod informer's thread).
class BoundPodRequests {
 public:
  // Applies a pod as decoded: a counted one (bound, not terminal) is placed on its node with its
  // requests, replacing what its UID counted before; any other is removed.
  void apply(const PodCpuMemory& pod);
  // The pod was deleted (or is no longer known): whatever its UID counted is taken back.
  void remove(std::string_view uid);
  // A relist starts: nothing is counted any more. all_totals() then gives the new totals.
  void clear();

  // The totals of each node whose totals moved since the last take_changes() or all_totals(), in
  // the order they first moved (absolute values; `pods` 0 = the node has none left).
  std::vector<state::NodeCpuMemoryRequested> take_changes();
  // The totals of every node with a counted pod (a relist's replacing message); clears the
  // changes, which it includes.
  std::vector<state::NodeCpuMemoryRequested> all_totals();

  std::size_t pod_count() const { return by_uuid_.size() + by_text_.size(); }
  std::size_t node_count() const { return directory_.size(); }
  // One node's totals as they are now (all zero when it has no counted pod).
  state::NodeCpuMemoryRequested totals(std::string_view node) const;

 private:
  static constexpr std::uint32_t kNoNode = 0xffffffffu;

  struct Uuid {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    friend bool operator==(const Uuid&, const Uuid&) = default;
  };
  struct UuidHash {
    // UUIDs from kube-apiserver are random (v4): mixing the halves is hash enough.
    std::size_t operator()(const Uuid& uuid) const noexcept {
      return static_cast<std::size_t>(uuid.high ^ (uuid.low * 0x9e3779b97f4a7c15ull));
    }
  };
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  struct Counted {
    std::uint32_t node = kNoNode;
    std::int64_t cpu_milli = 0;
    std::int64_t memory_bytes = 0;
  };
  struct NodeSums {
    std::string name;  // empty: a free slot
    core::Int128 cpu_milli = 0;
    core::Int128 memory_bytes = 0;
    std::int64_t pods = 0;
    bool changed = false;
  };

  static std::optional<Uuid> parse_uuid(std::string_view uid);
  Counted* find(std::string_view uid);
  Counted& insert(std::string_view uid);
  void erase(std::string_view uid);
  std::uint32_t intern(std::string_view node);
  void add(std::uint32_t node, const Counted& pod, int sign);
  state::NodeCpuMemoryRequested totals_of(const NodeSums& sums) const;
  // A node whose last pod left gives its slot back (after its zero totals were taken).
  void release_if_empty(std::uint32_t node);

  std::unordered_map<Uuid, Counted, UuidHash> by_uuid_;
  std::unordered_map<std::string, Counted, TextHash, std::equal_to<>> by_text_;
  std::vector<NodeSums> nodes_;
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> directory_;
  std::vector<std::uint32_t> free_nodes_;
  std::vector<std::uint32_t> changed_;
};

}  // namespace epc::kube
