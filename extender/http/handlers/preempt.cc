#include "extender/http/handlers/preempt.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "extender/core/fit.h"
#include "extender/core/preemption.h"

namespace epc::http::handlers {

namespace {

// Working vectors of one call, reused across its nodes.
struct Scratch {
  std::vector<core::VictimCandidate> candidates;
  std::vector<std::string_view> uids;  // the UID of each candidate, same positions
  std::vector<std::size_t> kept;       // select_victims' answer
  std::vector<std::string_view> kept_uids;
  std::vector<std::uint32_t> table_pods;  // victim-less entries: the table's pods chosen
};

// kube-scheduler's proposal for one node, with what our table knows about each victim.
void candidates_from_proposal(const codec::PreemptNode& node, const state::PodTable& pods,
                              Scratch& scratch) {
  for (const codec::PreemptVictim& victim : node.victims) {
    const state::PodRecord* const record = pods.find(victim.uid);
    core::VictimCandidate candidate;
    if (record != nullptr && record->node == node.name) {
      candidate = {.sgx = true, .priority = record->priority, .release = record->request};
    } else if (victim.pod_decoded && victim.request.wants_sgx()) {
      // The ledger does not count this pod (yet: its holder report may lag), but the node's live
      // use and the plugin's slot count may; what the pod asks for is the best estimate of what
      // it frees.
      candidate = {.sgx = true, .priority = victim.priority, .release = victim.request};
    } else {
      candidate = {.sgx = false, .priority = victim.priority, .release = {}};
    }
    scratch.candidates.push_back(candidate);
    scratch.uids.push_back(victim.uid);
  }
}

// Our own proposal for a node kube-scheduler sent without victims: the bound SGX pods of lower
// priority than the preemptor's, least important first, as kube-scheduler itself would list
// candidates for eviction (never an equal or higher priority, never our unconfirmed reservations).
void candidates_from_table(std::string_view node, std::int32_t preemptor_priority,
                           const state::PodTable& pods, Scratch& scratch) {
  const std::span<const state::PodRecord> all = pods.all();
  scratch.table_pods.clear();
  for (const std::uint32_t index : pods.on_node(node)) {
    const state::PodRecord& record = all[index];
    // A pod without a UID cannot be named in the reply.
    if (record.bound && record.priority < preemptor_priority && !record.uid.empty()) {
      scratch.table_pods.push_back(index);
    }
  }
  std::stable_sort(
      scratch.table_pods.begin(), scratch.table_pods.end(),
      [all](std::uint32_t a, std::uint32_t b) { return all[a].priority < all[b].priority; });
  for (const std::uint32_t index : scratch.table_pods) {
    const state::PodRecord& record = all[index];
    scratch.candidates.push_back(
        {.sgx = true, .priority = record.priority, .release = record.request});
    scratch.uids.push_back(record.uid);
  }
}

const core::NodeRow kNeverReported{};

// Near the reply's size when most proposed victims are returned (the writer grows if not).
std::size_t reply_size_hint(const codec::PreemptArgsView& args) {
  std::size_t size = 32;
  for (const codec::PreemptNode& node : args.nodes) {
    size += node.name.size() + 48;
    for (const codec::PreemptVictim& victim : node.victims) {
      size += victim.uid.size() + 12;
    }
  }
  return size;
}

}  // namespace

PreemptSummary preempt(const codec::PreemptArgsView& args, const state::ClusterSnapshot& snapshot,
                       const HandlerSettings& settings, std::int64_t now_ns, std::string& reply) {
  PreemptSummary summary;
  const core::FitContext context{.now_ns = now_ns,
                                 .stale_after_ns = settings.stale_after_ns,
                                 .accounting = settings.accounting};
  const state::PodTable& pods = snapshot.pods();
  Scratch scratch;
  codec::PreemptResultWriter writer(reply, reply_size_hint(args));
  for (const codec::PreemptNode& node : args.nodes) {
    // A node that never reported gets the empty row, which core::node_trust refuses: such a node
    // is dropped for an SGX preemptor, while a preemptor without SGX demand (every pod comes here
    // when managedResources is empty) keeps kube-scheduler's proposal, as filter passes it too.
    const std::optional<std::uint32_t> index = snapshot.find(node.name);
    const core::NodeRow& row = index.has_value() ? snapshot.row(*index) : kNeverReported;
    scratch.candidates.clear();
    scratch.uids.clear();
    if (node.victims.empty()) {
      if (core::fit(args.request, row, context).fits()) {
        continue;  // nothing of ours blocks the preemptor here: evicting would be for nothing
      }
      candidates_from_table(node.name, args.priority, pods, scratch);
    } else {
      candidates_from_proposal(node, pods, scratch);
    }
    if (!core::select_victims(row, context, args.request, scratch.candidates, scratch.kept)) {
      continue;
    }
    scratch.kept_uids.clear();
    for (const std::size_t kept : scratch.kept) {
      scratch.kept_uids.push_back(scratch.uids[kept]);
    }
    writer.add_node(node.name, scratch.kept_uids, node.num_pdb_violations);
    ++summary.nodes;
    summary.victims += static_cast<std::uint32_t>(scratch.kept_uids.size());
  }
  writer.finish();
  return summary;
}

}  // namespace epc::http::handlers
