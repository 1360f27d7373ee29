#include "extender/http/handlers/prioritize.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "extender/core/fit.h"
#include "extender/core/score/fragmentation_aware.h"
#include "extender/core/score/top_tie_break.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/handlers/node_lookup.h"
#include "extender/http/handlers/score_inputs.h"

namespace epc::http::handlers {

namespace {

// The HostPriorityList. Per entry {"Host":"<name>","Score":10}: 23 bytes around the name.
template <bool kPlainNames>
void write_host_priorities(std::span<const std::string_view> names,
                           const std::vector<std::int64_t>& scores, std::string& reply) {
  constexpr std::string_view kHost = "{\"Host\":";
  constexpr std::string_view kScore = ",\"Score\":";
  constexpr std::size_t kFraming = kHost.size() + kScore.size() + 3;  // '}', ',' and a digit
  std::size_t size_hint = 2;
  for (const std::string_view name : names) {
    size_hint += (kPlainNames ? name.size() + 2 : codec::max_json_string_size(name)) + kFraming;
  }
  codec::ReplyWriter writer(reply, size_hint);
  writer.character('[');
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i];
    const std::int64_t score = scores[i];
    if constexpr (kPlainNames) {
      // One room check per entry, then straight writes.
      char* out = writer.claim(name.size() + 2 + kFraming + codec::kMaxIntChars);
      out = codec::copy_bytes(out, kHost.data(), kHost.size());
      out = codec::write_plain_json_string(out, name);
      out = codec::copy_bytes(out, kScore.data(), kScore.size());
      if (score >= 0 && score < 10) {
        *out++ = static_cast<char>('0' + score);  // 0..9: the common case
      } else {
        out = std::to_chars(out, out + codec::kMaxIntChars, score).ptr;
      }
      *out++ = '}';
      *out++ = ',';
      writer.commit(out);
    } else {
      writer.raw(kHost);
      writer.string(name);
      writer.raw(kScore);
      writer.integer(score);
      writer.raw("},");
    }
  }
  if (!names.empty()) {
    writer.unput();  // the last entry's comma
  }
  writer.character(']');
  writer.finish();
}

}  // namespace

void prioritize(const codec::ExtenderArgsView& args, const state::ClusterSnapshot& snapshot,
                const HandlerSettings& settings, std::int64_t now_ns, HandlerScratch& scratch,
                std::string& reply) {
  const std::size_t count = args.node_names.size();
  scratch.scores.assign(count, core::score::kMinExtenderScore);

  if (args.request.wants_sgx()) {
    // The pod joins the mix whether or not a node fits it.
    const std::optional<core::score::MixDistribution> mix = mix_with_pod(args, snapshot, settings);

    // Only nodes that fit take part in the policy's normalisation: an unfit node must not pull the
    // scale (it may be filtered out by another extender's view anyway, and gets 0 here).
    // Local copies: the loop's stores cannot alias them, so they stay in registers.
    const core::PodRequest pod = args.request;
    const core::FitContext context{now_ns, settings.stale_after_ns, settings.accounting};
    const std::span<const std::string_view> names = args.node_names;
    const state::NodeTable& table = snapshot.nodes();
    scratch.rows.clear();
    scratch.positions.clear();
    scratch.node_keys.clear();
    NodeResolver resolver(snapshot, scratch.prioritize_memo, count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t index = resolver.resolve(i, names[i]);
      if (index == kUnknownNode) {
        continue;
      }
      const core::NodeRow& row = table.row(index);
      if (core::fit(pod, row, context).fits()) {
        scratch.rows.push_back(&row);
        scratch.positions.push_back(static_cast<std::uint32_t>(i));
        scratch.node_keys.push_back(index);
      }
    }
    scratch.fit_scores.assign(scratch.rows.size(), 0);
    if (!scratch.rows.empty()) {
      const core::score::ScoreContext score_context{
          .accounting = settings.accounting,
          .weights = settings.weights,
          .mix = mix ? &*mix : nullptr,
      };
      core::score::score_nodes(settings.policy, args.request, scratch.rows, score_context,
                               scratch.fit_scores);
      if (settings.single_out_top_node) {
        // Keys: the nodes' places in the snapshot's table (scratch.node_keys).
        core::score::single_out_top_score(scratch.fit_scores, scratch.node_keys,
                                          tie_break_salt(args));
      }
    }
    for (std::size_t j = 0; j < scratch.positions.size(); ++j) {
      // The extender scale is 0..10 by convention only (kube-scheduler does not validate it), so
      // clamp here rather than trust every policy.
      scratch.scores[scratch.positions[j]] = std::clamp(
          scratch.fit_scores[j], core::score::kMinExtenderScore, core::score::kMaxExtenderScore);
    }
  }

  if (args.plain_names) {
    write_host_priorities<true>(args.node_names, scratch.scores, reply);
  } else {
    write_host_priorities<false>(args.node_names, scratch.scores, reply);
  }
}

void write_prioritize_error(std::string& reply) { reply.assign("[]"); }

}  // namespace epc::http::handlers
