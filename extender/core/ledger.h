#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "extender/core/pod_request.h"

namespace epc::core {

// Where the ledger learnt of a pod's presence on a node or of its EPC. Higher values are more
// authoritative: an entry is only overwritten by a source of equal or higher rank.
enum class LedgerSource : std::uint8_t {
  kSchedulerRequest,  // EPC taken from a filter/prioritize request the extender saw for this pod
  kNodeReport,        // the node's plugin lists the pod as a slot holder (EPC from it when known)
  kBind,              // the extender's own bind decision, until the API confirms it (a TTL)
  kApiWatch,          // kube-apiserver says the pod is bound there and what it requests
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
  std::int32_t priority = 0;  // spec.priority when the API or the scheduler told it
};

// A pod as kube-apiserver shows it, reduced to what the ledger needs (extender/kube decodes it).
struct ApiPod {
  PodKey pod;        // uid always set
  std::string node;  // spec.nodeName; empty while pending
  PodRequest request;
  std::int32_t priority = 0;
  bool terminal = false;  // Succeeded or Failed: it holds nothing any more
};

// What the ledger knows a pod asks for (bind looks it up: its request carries only the name).
struct PodDemand {
  PodRequest request;
  std::int32_t priority = 0;
  bool from_api = false;   // false: from a filter/prioritize request (a hint)
  std::string bound_node;  // the node the API or a reservation already has it on; empty if none
  LedgerSource bound_source = LedgerSource::kSchedulerRequest;  // when bound_node is set
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
                              std::vector<std::string>* moved_nodes = nullptr,
                              std::int64_t now_ns = 0);

  // Forgets a node and its entries (node removed or never coming back).
  void remove_node(std::string_view node);

  // ---- the API watch: authoritative for what is bound where and what it requests ----

  // Applies one pod as the watch shows it: a bound, running SGX pod is placed on its node (over any
  // report or reservation entry for the same pod, and a reservation elsewhere is dropped: the API
  // decided); a pending one is remembered for bind; a terminal or non-SGX one releases everything.
  void upsert_api_pod(const ApiPod& pod, std::vector<std::string>* moved_nodes = nullptr);
  // The pod was deleted.
  void remove_api_pod(std::string_view uid, std::vector<std::string>* moved_nodes = nullptr);
  // A relist: `pods` is every SGX pod the API has; API pods missing from it are removed.
  void replace_api_pods(std::span<const ApiPod> pods,
                        std::vector<std::string>* moved_nodes = nullptr);
  bool api_knows(std::string_view uid) const { return api_pods_.contains(uid); }
  std::size_t api_pod_count() const { return api_pods_.size(); }

  // What `pod` asks for, from the API (pending or bound) or else from a remembered scheduler
  // request; nullopt when neither knows it or the UIDs disagree (another incarnation).
  std::optional<PodDemand> demand(const PodKey& pod) const;

  // ---- reservations: the extender's own bind decisions ----

  // Counts `request` for `pod` on `node` until cancelled, confirmed by the API (upsert_api_pod) or
  // expired. A pod the API already has on `node` is left as it is.
  void reserve(const PodKey& pod, std::string_view node, const PodRequest& request,
               std::int64_t expires_ns, std::vector<std::string>* moved_nodes = nullptr);
  // Drops the reservation of `pod` on `node` (its Binding failed). False if there was none.
  bool cancel_reservation(const PodKey& pod, std::string_view node,
                          std::vector<std::string>* moved_nodes = nullptr);
  // Drops reservations that expired by `now_ns`, unconfirmed. Returns how many.
  std::size_t expire_reservations(std::int64_t now_ns,
                                  std::vector<std::string>* moved_nodes = nullptr);
  // Moves every expiry to at least `min_expires_ns` (the pod watch reconnected: nothing could
  // confirm a reservation while it was down).
  void extend_reservations(std::int64_t min_expires_ns);
  std::size_t reservation_count() const { return reservations_.size(); }
  // The earliest expiry of a reservation; nullopt when there is none.
  std::optional<std::int64_t> next_reservation_expiry() const;

  // Forgets remembered scheduler requests (hints) older than `oldest_ns`.
  void expire_hints(std::int64_t oldest_ns);
  std::size_t remembered_request_count() const { return requests_.size(); }

  // Every entry on every node, in (node, pod key) order.
  template <typename Fn>
  void for_each_entry(Fn&& fn) const {
    for (const auto& [node, entries] : nodes_) {
      for (const auto& [key, entry] : entries) {
        fn(std::string_view(node), entry);
      }
    }
  }

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
    std::int64_t seen_ns = 0;
  };
  struct ApiRecord {
    std::string key;  // namespace/name
    std::string node;
    PodRequest request;
    std::int32_t priority = 0;
  };
  struct ReservationRecord {
    std::string node;
    std::string uid;
    std::int64_t expires_ns = 0;
  };
  using NodeEntries = std::map<std::string, LedgerEntry, std::less<>>;  // by namespace/name

  // Applies a remembered request's EPC to `entry` if no better source gave it. True if it changed.
  static bool apply_request(LedgerEntry& entry, const RememberedRequest& request);
  void index_add(const std::string& pod, std::string_view node);
  void index_remove(const std::string& pod, std::string_view node);
  void evict_requests();
  // Removes `key`'s entry on `node` if its presence is exactly `source`. True if removed.
  bool remove_entry(std::string_view node, const std::string& key, LedgerSource source,
                    std::vector<std::string>* moved_nodes);
  void drop_reservation(const std::string& key, std::vector<std::string>* moved_nodes);

  std::map<std::string, NodeEntries, std::less<>> nodes_;
  std::map<std::string, RememberedRequest, std::less<>> requests_;  // by namespace/name
  // seen_order -> namespace/name, oldest first: eviction without scanning requests_.
  std::map<std::uint64_t, std::string> request_order_;
  // namespace/name -> nodes holding an entry for it, so a scheduler request touches only those.
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> pod_nodes_;
  std::map<std::string, ApiRecord, std::less<>> api_pods_;              // by UID
  std::map<std::string, std::string, std::less<>> api_uid_by_key_;      // namespace/name -> UID
  std::map<std::string, ReservationRecord, std::less<>> reservations_;  // by namespace/name
  std::uint64_t next_order_ = 0;
  std::size_t request_memory_limit_ = 100000;
};

}  // namespace epc::core
