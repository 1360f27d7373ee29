#include "extender/core/preemption.h"

#include <algorithm>

#include "extender/core/checked_math.h"

namespace epc::core {

namespace {

// What a set of evictions gives back. 128-bit sums: even INT64_MAX-sized releases of every victim
// cannot overflow, so taking one victim back out of the sum (the reprieve) is exact.
struct Released {
  Int128 epc_bytes = 0;
  Int128 enclave_slots = 0;
  Int128 provision_slots = 0;
};

// A victim frees what it holds; a negative amount (never produced by our decoders) frees nothing
// rather than adding use.
Int128 freed(std::int64_t amount) { return amount > 0 ? amount : 0; }

void add(Released& released, const PodRequest& release) {
  released.epc_bytes += freed(release.epc_bytes);
  released.enclave_slots += freed(release.enclave_slots);
  released.provision_slots += freed(release.provision_slots);
}

Released without(Released released, const PodRequest& release) {
  released.epc_bytes -= freed(release.epc_bytes);
  released.enclave_slots -= freed(release.enclave_slots);
  released.provision_slots -= freed(release.provision_slots);
  return released;
}

// `used` lowered by `released`, never below zero (a row that counts less than the victims hold
// just ends up empty).
std::int64_t lowered(std::int64_t used, Int128 released) {
  if (released == 0) {
    return used;
  }
  const Int128 rest = static_cast<Int128>(used) - released;
  return rest > 0 ? clamp_to_int64(rest) : 0;
}

// The node as it would be once the victims are gone. Live use drops with requested use: an evicted
// pod's enclave pages leave with it, and keeping the old live figure would let the larger of the
// two (epc_used_bytes) hide the release.
NodeRow after_release(const NodeRow& row, const Released& released) {
  NodeRow after = row;
  after.epc_requested_bytes = lowered(row.epc_requested_bytes, released.epc_bytes);
  after.epc_live_used_bytes = lowered(row.epc_live_used_bytes, released.epc_bytes);
  after.enclave_slots_used = lowered(row.enclave_slots_used, released.enclave_slots);
  after.provision_slots_used = lowered(row.provision_slots_used, released.provision_slots);
  return after;
}

bool fits_after(const PodRequest& preemptor, const NodeRow& row, const FitContext& context,
                const Released& released) {
  return fit(preemptor, after_release(row, released), context).fits();
}

void keep_all(std::size_t count, std::vector<std::size_t>& kept) {
  for (std::size_t i = 0; i < count; ++i) {
    kept.push_back(i);
  }
}

}  // namespace

bool select_victims(const NodeRow& row, const FitContext& context, const PodRequest& preemptor,
                    std::span<const VictimCandidate> candidates, std::vector<std::size_t>& kept) {
  kept.clear();
  const bool trusted = node_trusted(row, context.now_ns, context.stale_after_ns);
  // Rule 0 before rule 1: filter passes a pod without SGX demand on any node, trusted or not, so
  // preemption must not be where such a pod is stopped.
  if (preemptor.wants_sgx() && !trusted) {
    return false;
  }
  // Rule 2: the blocker is something of kube-scheduler's own; its victims stand.
  if (fit(preemptor, row, context).fits()) {
    keep_all(candidates.size(), kept);
    return !kept.empty();
  }

  // Rule 3: every SGX candidate evicted is the most this node can offer.
  Released released;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].sgx) {
      kept.push_back(i);
      add(released, candidates[i].release);
    }
  }
  if (!fits_after(preemptor, row, context, released)) {
    kept.clear();
    return false;
  }

  // Rule 4: the reprieve, most important first, so that what stays evicted is the least important
  // set that still makes room. The order is sorted in `kept` itself to allocate nothing.
  std::sort(kept.begin(), kept.end(), [candidates](std::size_t a, std::size_t b) {
    if (candidates[a].priority != candidates[b].priority) {
      return candidates[a].priority > candidates[b].priority;
    }
    return a < b;
  });
  std::size_t evicted = 0;
  for (std::size_t visit = 0; visit < kept.size(); ++visit) {
    const std::size_t index = kept[visit];
    const Released reprieved = without(released, candidates[index].release);
    if (fits_after(preemptor, row, context, reprieved)) {
      released = reprieved;
    } else {
      kept[evicted++] = index;
    }
  }
  kept.resize(evicted);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!candidates[i].sgx) {
      kept.push_back(i);
    }
  }
  std::sort(kept.begin(), kept.end());
  return !kept.empty();
}

}  // namespace epc::core
