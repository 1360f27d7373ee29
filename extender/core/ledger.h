#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace epc::core {

// Where the ledger learnt of a pod's presence on a node or of its EPC. Higher values are more
// authoritative: an entry is only overwritten by a source of equal or higher rank.
enum class LedgerSource : std::uint8_t {
  kSchedulerRequest,  // EPC taken from a filter/prioritize request the extender saw for this pod
  kNodeReport,        // the node's plugin lists the pod as a slot holder (EPC from it when known)
  kApiWatch,          // reserved: pods watched from kube-apiserver
  kBind,              // reserved: the extender's own bind decision
};

// Identifies a pod. UID when known; namespace/name always (the device plugin learns pods through
// the PodResources API, which gives namespace and name only).
struct PodKey {
  std::string namespace_name;  // "namespace/name"
  std::string uid;             // may be empty

  friend bool operator==(const PodKey&, const PodKey&) = default;
};

struct LedgerEntry {
  PodKey pod;
  std::optional<std::int64_t> epc_bytes;  // unknown until some source gives it
  std::int64_t enclave_slots = 0;
  std::int64_t provision_slots = 0;
  LedgerSource presence_source = LedgerSource::kNodeReport;
  std::optional<LedgerSource> epc_source;
};

// A pod the node reports as holding its slots.
struct SlotHolder {
  PodKey pod;
  std::optional<std::int64_t> epc_bytes;  // when the node knows it
  std::int64_t enclave_slots = 0;
  std::int64_t provision_slots = 0;
};

// The SGX pods on each node. Pure data structure; the single state writer owns it.
// Keys: node name → pod namespace/name. Not for the hot path: the writer folds it into NodeRow
// totals when it publishes a snapshot.
class Ledger {
 public:
  // Replaces everything the node's reports said about its holders with `holders` (a snapshot or the
  // merged state after a change). Entries from other sources on that node are kept (a holder that
  // matches one only fills in its EPC if that is unknown). A holder without EPC takes it from a
  // remembered scheduler request for the same pod. If a pod appears twice, the last one wins.
  void set_node_holders(std::string_view node, const std::vector<SlotHolder>& holders);

  // Records the demand the scheduler showed for a pod (filter/prioritize). Fills in the EPC of any
  // holder on any node with the same pod key whose EPC is not known from a better source, and is
  // remembered for holders reported later. Returns true if some node's totals changed; when
  // `moved_nodes` is given, the names of those nodes are appended to it.
  bool note_scheduler_request(const PodKey& pod, std::int64_t epc_bytes, std::int64_t enclave_slots,
                              std::int64_t provision_slots,
                              std::vector<std::string>* moved_nodes = nullptr);

  // Forgets a node and its entries (node removed or never coming back).
  void remove_node(std::string_view node);

  struct NodeTotals {
    std::int64_t epc_requested_bytes = 0;  // Σ known EPC
    std::int64_t enclave_slots = 0;
    std::int64_t provision_slots = 0;
    std::int64_t pods = 0;
    std::int64_t pods_with_unknown_epc = 0;
  };
  NodeTotals totals(std::string_view node) const;

  // Entries on a node, ordered by pod key (for diagnostics and tests).
  std::vector<LedgerEntry> entries(std::string_view node) const;

  // Bounds the memory of remembered scheduler requests (oldest forgotten first).
  void set_request_memory_limit(std::size_t max_pods);

 private:
  struct RememberedRequest {
    std::int64_t epc_bytes;
    std::int64_t enclave_slots;
    std::int64_t provision_slots;
    std::uint64_t seen_order;
    std::string uid;  // empty when the request carried none
  };
  using NodeEntries = std::map<std::string, LedgerEntry, std::less<>>;  // by namespace/name

  // Applies a remembered request's EPC to `entry` if no better source gave it. True if it changed.
  static bool apply_request(LedgerEntry& entry, const RememberedRequest& request);
  void index_add(const std::string& pod, std::string_view node);
  void index_remove(const std::string& pod, std::string_view node);
  void evict_requests();

  std::map<std::string, NodeEntries, std::less<>> nodes_;
  std::map<std::string, RememberedRequest, std::less<>> requests_;  // by namespace/name
  // seen_order -> namespace/name, oldest first: eviction without scanning requests_.
  std::map<std::uint64_t, std::string> request_order_;
  // namespace/name -> nodes holding an entry for it, so a scheduler request touches only those.
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> pod_nodes_;
  std::uint64_t next_order_ = 0;
  std::size_t request_memory_limit_ = 100000;
};

}  // namespace epc::core
