#include "tools/sim/scheduler.h"

#include <array>
#include <utility>

#include "extender/core/fit.h"
#include "extender/core/score/fragmentation_aware.h"
#include "extender/core/score/policy.h"
#include "extender/core/score/top_tie_break.h"
#include "tools/sim/kube_scores.h"

namespace epc::tools::sim {
namespace {

constexpr std::int64_t kExtenderScoreScale =
    kMaxNodeScore / core::score::kMaxExtenderScore;  // MaxNodeScore / MaxExtenderPriority

// NodeResourcesFit's score for `pod` on node i (its non-zero requests, the pod's included).
std::int64_t kube_fit_score(const SimCluster& cluster, std::size_t i, const PodDemand& pod,
                            KubeFitScoring scoring, bool epc_in_kube) {
  const SimNode& node = cluster.node(i);
  const NodeUse& use = cluster.use(i);
  const core::NodeRow& row = cluster.row(i);
  const std::int64_t pod_cpu = pod.cpu_milli > 0 ? pod.cpu_milli : kDefaultMilliCpuRequest;
  const std::int64_t pod_memory =
      pod.memory_bytes > 0 ? pod.memory_bytes : kDefaultMemoryRequestBytes;
  const ScoredResource cpu{use.nonzero_cpu_milli + pod_cpu, node.cpu_milli, 1};
  const ScoredResource memory{use.nonzero_memory_bytes + pod_memory, node.memory_bytes, 1};
  if (scoring == KubeFitScoring::kLeastAllocated) {
    const std::array<ScoredResource, 2> resources{cpu, memory};
    return least_allocated_score(resources);
  }
  // An extended resource the pod does not request is left out of the average (kube returns
  // (0, 0) for it, which the capacity > 0 rule then skips).
  const ScoredResource epc{row.epc_requested_bytes + pod.sgx.epc_bytes,
                           epc_in_kube && pod.sgx.epc_bytes > 0 ? row.epc_capacity_bytes : 0, 1};
  const std::array<ScoredResource, 3> resources{cpu, memory, epc};
  return most_allocated_score(resources);
}

// BalancedAllocation over cpu and memory, on actual requests (the pod's included).
std::int64_t kube_balanced_score(const SimCluster& cluster, std::size_t i, const PodDemand& pod) {
  const SimNode& node = cluster.node(i);
  const NodeUse& use = cluster.use(i);
  const std::array<ScoredResource, 2> resources{
      ScoredResource{use.cpu_milli + pod.cpu_milli, node.cpu_milli, 1},
      ScoredResource{use.memory_bytes + pod.memory_bytes, node.memory_bytes, 1}};
  return balanced_allocation_score(resources);
}

// The arrival stream and the scheduler's tie-breaks draw from separate generators, so strategies
// that break ties differently still see the same pods in the same order.
constexpr std::uint64_t kTieBreakStream = 0x9e3779b97f4a7c15ULL;

// selectHost's rule: the highest score wins; among equal scores each node is kept with probability
// 1/ties (reservoir sampling), so every tied node is equally likely.
class RandomArgmax {
 public:
  explicit RandomArgmax(std::mt19937_64& rng) : rng_(rng) {}

  void offer(std::size_t node, std::int64_t score) {
    if (!best_ || score > best_score_) {
      best_ = node;
      best_score_ = score;
      ties_ = 1;
    } else if (score == best_score_ &&
               std::uniform_int_distribution<std::size_t>(0, ties_++)(rng_) == 0) {
      best_ = node;
    }
  }
  std::optional<std::size_t> best() const { return best_; }

 private:
  std::mt19937_64& rng_;
  std::optional<std::size_t> best_;
  std::int64_t best_score_ = 0;
  std::size_t ties_ = 0;
};

}  // namespace

Scheduler::Scheduler(Strategy strategy, std::uint64_t seed)
    : strategy_(std::move(strategy)), rng_(seed ^ kTieBreakStream) {}

std::optional<std::size_t> Scheduler::schedule(const SimCluster& cluster, const PodDemand& pod) {
  return strategy_.ideal ? pick_ideal(cluster, pod) : pick_by_total(cluster, pod);
}

std::optional<std::size_t> Scheduler::pick_ideal(const SimCluster& cluster, const PodDemand& pod) {
  const core::FitContext fit_context{};
  const core::score::PolicyKind kind = *strategy_.extender;
  mix_.observe(pod.sgx);
  const core::score::MixDistribution mix = core::score::MixDistribution::from_mix(mix_);
  const core::score::ScoreContext context{.accounting = {}, .weights = {}, .mix = &mix};
  const core::score::RawScoreFn raw = core::score::raw_score_function(kind);
  RandomArgmax best(rng_);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (cluster.kube_fits(i, pod, false) &&
        core::fit(pod.sgx, cluster.row(i), fit_context).fits()) {
      best.offer(i, raw(pod.sgx, cluster.row(i), context));
    }
  }
  return best.best();
}

std::optional<std::size_t> Scheduler::pick_by_total(const SimCluster& cluster,
                                                    const PodDemand& pod) {
  // 1. In-tree filters over a rotating window, stopping at the sample size.
  const std::size_t n = cluster.size();
  const std::size_t to_find = feasible_nodes_to_find(n, strategy_.percentage_of_nodes_to_score);
  candidates_.clear();
  std::size_t processed = 0;
  for (; processed < n && candidates_.size() < to_find; ++processed) {
    const std::size_t i = (next_start_ + processed) % n;
    if (cluster.kube_fits(i, pod, strategy_.epc_in_kube)) {
      candidates_.push_back(i);
    }
  }
  next_start_ = n == 0 ? 0 : (next_start_ + processed) % n;

  // 2. The extender's filter.
  if (strategy_.extender) {
    const core::FitContext fit_context{};
    std::size_t kept = 0;
    for (const std::size_t i : candidates_) {
      if (core::fit(pod.sgx, cluster.row(i), fit_context).fits()) {
        candidates_[kept++] = i;
      }
    }
    candidates_.resize(kept);
  }
  // The one-round-trip filter joins the pod to the mix (it may be the only verb), prioritize does
  // otherwise: once per attempt either way, as extender_routes does.
  std::optional<core::score::MixDistribution> mix;
  const bool mix_policy = strategy_.extender == core::score::PolicyKind::kFragmentationAware;
  const bool top_k = strategy_.extender && strategy_.filter_top_k > 0;
  if (mix_policy && top_k) {
    mix_.observe(pod.sgx);
    mix = core::score::MixDistribution::from_mix(mix_);
  }
  if (top_k && candidates_.size() > strategy_.filter_top_k) {
    candidate_rows_.clear();
    for (const std::size_t i : candidates_) {
      candidate_rows_.push_back(&cluster.row(i));
    }
    const core::score::ScoreContext context{
        .accounting = {}, .weights = {}, .mix = mix ? &*mix : nullptr};
    extender_scores_.assign(candidates_.size(), 0);
    core::score::raw_scores(*strategy_.extender, pod.sgx, candidate_rows_, context,
                            extender_scores_);
    // Keys: cluster indices; salt: a fresh draw per attempt (the extender's pod UID).
    candidate_keys_.assign(candidates_.begin(), candidates_.end());
    core::score::select_top_k(extender_scores_, candidate_keys_, rng_(), strategy_.filter_top_k,
                              ranked_, kept_);
    for (std::size_t j = 0; j < kept_.size(); ++j) {
      candidates_[j] = candidates_[kept_[j]];
    }
    candidates_.resize(kept_.size());
  }
  if (candidates_.empty()) {
    return std::nullopt;
  }
  if (candidates_.size() == 1) {
    return candidates_.front();
  }

  // 3. Scores: the extender's prioritize through the same core call the HTTP handler makes.
  extender_scores_.assign(candidates_.size(), 0);
  if (strategy_.extender && strategy_.extender_prioritize) {
    candidate_rows_.clear();
    for (const std::size_t i : candidates_) {
      candidate_rows_.push_back(&cluster.row(i));
    }
    if (mix_policy && !top_k) {
      mix_.observe(pod.sgx);
      mix = core::score::MixDistribution::from_mix(mix_);
    }
    const core::score::ScoreContext context{
        .accounting = {}, .weights = {}, .mix = mix ? &*mix : nullptr};
    core::score::score_nodes(*strategy_.extender, pod.sgx, candidate_rows_, context,
                             extender_scores_);
    if (strategy_.extender_tie_break) {
      // The extender keys nodes by their table index and salts with the pod's UID; here the
      // candidates' cluster indices and a fresh draw per attempt play those parts.
      candidate_keys_.assign(candidates_.begin(), candidates_.end());
      core::score::single_out_top_score(extender_scores_, candidate_keys_, rng_());
    }
  }
  RandomArgmax best(rng_);
  for (std::size_t c = 0; c < candidates_.size(); ++c) {
    const std::size_t i = candidates_[c];
    const std::int64_t kube =
        strategy_.kube_fit == KubeFitScoring::kDisabled
            ? 0
            : kube_fit_score(cluster, i, pod, strategy_.kube_fit, strategy_.epc_in_kube) +
                  kube_balanced_score(cluster, i, pod);
    best.offer(i, kube + extender_scores_[c] * strategy_.extender_weight * kExtenderScoreScale);
  }
  return best.best();
}

}  // namespace epc::tools::sim
