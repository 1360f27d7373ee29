#include "extender/http/handlers/prioritize.h"

#include <algorithm>

#include "extender/core/fit.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/handlers/node_lookup.h"

namespace epc::http::handlers {

void prioritize(const codec::ExtenderArgsView& args, const state::Snapshot& snapshot,
                const HandlerSettings& settings, std::int64_t now_ns, HandlerScratch& scratch,
                std::string& reply) {
  const std::size_t count = args.node_names.size();
  scratch.scores.assign(count, core::score::kMinExtenderScore);

  if (args.request.wants_sgx()) {
    // Only nodes that fit take part in the policy's normalisation: an unfit node must not pull the
    // scale (it may be filtered out by another extender's view anyway, and gets 0 here).
    const core::FitContext context{now_ns, settings.stale_after_ns, settings.accounting};
    scratch.rows.clear();
    scratch.positions.clear();
    resolve_nodes(args.node_names, snapshot, scratch);
    const std::span<const core::NodeRow> rows = snapshot.rows();
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t index = scratch.node_indices[i];
      if (index == kUnknownNode) {
        continue;
      }
      const core::NodeRow& row = rows[index];
      if (core::fit(args.request, row, context).fits()) {
        scratch.rows.push_back(&row);
        scratch.positions.push_back(static_cast<std::uint32_t>(i));
      }
    }
    scratch.fit_scores.assign(scratch.rows.size(), 0);
    if (!scratch.rows.empty()) {
      const core::score::ScoreContext score_context{settings.accounting, settings.weights};
      core::score::score_nodes(settings.policy, args.request, scratch.rows, score_context,
                               scratch.fit_scores);
    }
    for (std::size_t j = 0; j < scratch.positions.size(); ++j) {
      // The extender scale is 0..10 by convention only (kube-scheduler does not validate it), so
      // clamp here rather than trust every policy.
      scratch.scores[scratch.positions[j]] =
          std::clamp(scratch.fit_scores[j], core::score::kMinExtenderScore,
                     core::score::kMaxExtenderScore);
    }
  }

  // Per entry: {"Host":"<name>","Score":10}, 23 bytes around the name.
  std::size_t size_hint = 2;
  for (const std::string_view name : args.node_names) {
    size_hint += name.size() + 24;
  }
  codec::ReplyWriter writer(reply, size_hint);
  writer.character('[');
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) {
      writer.character(',');
    }
    writer.raw("{\"Host\":");
    writer.string(args.node_names[i]);
    writer.raw(",\"Score\":");
    writer.integer(scratch.scores[i]);
    writer.character('}');
  }
  writer.character(']');
  writer.finish();
}

void write_prioritize_error(std::string& reply) { reply.assign("[]"); }

}  // namespace epc::http::handlers
