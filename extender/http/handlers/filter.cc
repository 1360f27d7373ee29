#include "extender/http/handlers/filter.h"

#include <array>
#include <optional>

#include "extender/core/fit.h"
#include "extender/core/score/top_k.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/handlers/fit_reason_text.h"
#include "extender/http/handlers/node_lookup.h"
#include "extender/http/handlers/score_inputs.h"

namespace epc::http::handlers {

namespace {

using Verdict = HandlerScratch::Verdict;

// fit_reason_text per reason code, looked up once per failed node.
struct ReasonTexts {
  ReasonTexts() {
    for (int code = 0; code < core::kFitReasonCount; ++code) {
      texts[static_cast<std::size_t>(code)] = fit_reason_text(static_cast<core::FitReason>(code));
    }
  }
  std::string_view operator[](core::FitReason reason) const {
    return texts[static_cast<std::size_t>(reason)];
  }
  std::array<std::string_view, core::kFitReasonCount> texts;
};

const ReasonTexts& reason_texts() {
  static const ReasonTexts texts;
  return texts;
}

// Names go out verbatim when the decoder found them plain (the usual case), else escaped.
template <bool kPlainNames>
void write_name(codec::ReplyWriter& out, std::string_view name) {
  if constexpr (kPlainNames) {
    out.plain_string(name);
  } else {
    out.string(name);
  }
}

template <bool kPlainNames>
std::size_t name_size_bound(std::string_view name) {
  return kPlainNames ? name.size() + 2 : codec::max_json_string_size(name);
}

// A size close to (and not below) the reply's: the framing, the echoed items, per node in the
// reply its name with quotes and a comma, and per failed node its reason with the framing around
// it. Close matters: ReplyWriter zero-fills its size hint (and a top-k reply is a few names).
template <bool kPlainNames>
std::size_t reply_size_hint(const codec::ExtenderArgsView& args,
                            const std::vector<Verdict>& verdicts,
                            const std::vector<std::uint32_t>& failed) {
  std::size_t size = 160;
  const bool items = args.source == codec::NodeSource::kNodeList;
  for (std::size_t i = 0; i < verdicts.size(); ++i) {
    if (verdicts[i].cut) {
      continue;
    }
    size += name_size_bound<kPlainNames>(args.node_names[i]) + 1;
    if (items) {
      size += args.node_items[i].size() + 1;
    }
  }
  const ReasonTexts& texts = reason_texts();
  for (const std::uint32_t i : failed) {
    size += texts[verdicts[i].reason].size() + 4;  // :"reason"
  }
  return size;
}

// Writes the ExtenderFilterResult.
template <bool kPlainNames>
void write_filter_reply(codec::ReplyWriter& out, const codec::ExtenderArgsView& args,
                        const std::vector<Verdict>& verdicts,
                        const std::vector<std::uint32_t>& failed) {
  const std::size_t count = verdicts.size();
  out.raw("{\"Nodes\":");
  if (args.source == codec::NodeSource::kNodeList) {
    // Non-cache mode: kube-scheduler takes Nodes.items as returned, so echo the surviving Node
    // objects byte for byte.
    out.raw("{\"metadata\":{},\"items\":[");
    bool first = true;
    for (std::size_t i = 0; i < count; ++i) {
      if (verdicts[i].reason != core::FitReason::kFits || verdicts[i].cut) {
        continue;
      }
      if (!first) {
        out.character(',');
      }
      first = false;
      out.raw(args.node_items[i]);
    }
    out.raw("]}");
  } else {
    out.raw("null");
  }

  out.raw(",\"NodeNames\":[");
  bool any = false;
  for (std::size_t i = 0; i < count; ++i) {
    if (verdicts[i].reason != core::FitReason::kFits || verdicts[i].cut) {
      continue;
    }
    any = true;
    const std::string_view name = args.node_names[i];
    if constexpr (kPlainNames) {
      // One room check per name, then straight writes; every name is followed by a comma and the
      // last one is taken back below.
      char* position = out.claim(name.size() + 3);
      position = codec::write_plain_json_string(position, name);
      *position++ = ',';
      out.commit(position);
    } else {
      out.string(name);
      out.character(',');
    }
  }
  if (any) {
    out.unput();
  }

  // "name":"reason" pairs of the failed nodes in one of the two maps.
  const ReasonTexts& texts = reason_texts();
  const auto failures = [&](bool unresolvable) {
    out.character('{');
    bool first_failure = true;
    for (const std::uint32_t i : failed) {
      const Verdict& verdict = verdicts[i];
      if (verdict.unresolvable != unresolvable) {
        continue;
      }
      if (!first_failure) {
        out.character(',');
      }
      first_failure = false;
      write_name<kPlainNames>(out, args.node_names[i]);
      // Reason texts are fixed and need no JSON escaping (fit_reason_text_test checks them all).
      out.raw(":\"");
      out.raw(texts[verdict.reason]);
      out.character('"');
    }
    out.character('}');
  };
  out.raw("],\"FailedNodes\":");
  failures(/*unresolvable=*/false);
  out.raw(",\"FailedAndUnresolvableNodes\":");
  failures(/*unresolvable=*/true);
  out.raw(",\"Error\":\"\"}");
}

template <bool kPlainNames>
void write_reply(const codec::ExtenderArgsView& args, const HandlerScratch& scratch,
                 std::string& reply) {
  codec::ReplyWriter writer(reply,
                            reply_size_hint<kPlainNames>(args, scratch.verdicts, scratch.failed));
  write_filter_reply<kPlainNames>(writer, args, scratch.verdicts, scratch.failed);
  writer.finish();
}

// The one-round-trip cut: of the nodes that fit, all but the k best by the policy's raw score are
// marked `cut` (left out of the reply without a reason: they fit, they are just not chosen).
// scratch.positions = the fitting nodes' places in the request, rows = their snapshot rows,
// node_keys = their table indices.
void keep_top_k(const codec::ExtenderArgsView& args, const state::ClusterSnapshot& snapshot,
                const HandlerSettings& settings, HandlerScratch& scratch) {
  const std::optional<core::score::MixDistribution> mix = mix_with_pod(args, snapshot, settings);
  const core::score::ScoreContext score_context{
      .accounting = settings.accounting,
      .weights = settings.weights,
      .mix = mix ? &*mix : nullptr,
  };
  scratch.fit_scores.resize(scratch.rows.size());
  core::score::raw_scores(settings.policy, args.request, scratch.rows, score_context,
                          scratch.fit_scores);
  // Keys (scratch.node_keys: table indices) and salt as prioritize's single-out.
  core::score::select_top_k(scratch.fit_scores, scratch.node_keys, tie_break_salt(args),
                            settings.filter_top_k, scratch.ranked, scratch.kept);
  for (const std::uint32_t position : scratch.positions) {
    scratch.verdicts[position].cut = true;
  }
  for (const std::uint32_t kept : scratch.kept) {
    scratch.verdicts[scratch.positions[kept]].cut = false;
  }
}

}  // namespace

void filter(const codec::ExtenderArgsView& args, const state::ClusterSnapshot& snapshot,
            const HandlerSettings& settings, std::int64_t now_ns, HandlerScratch& scratch,
            std::string& reply) {
  const std::size_t count = args.node_names.size();
  std::vector<Verdict>& verdicts = scratch.verdicts;
  std::vector<std::uint32_t>& failed = scratch.failed;
  failed.clear();
  if (args.request.wants_sgx()) {
    verdicts.resize(count);
    // Local copies: the loop's stores cannot alias them, so they stay in registers.
    const core::PodRequest pod = args.request;
    const core::FitContext context{now_ns, settings.stale_after_ns, settings.accounting};
    const std::span<const std::string_view> names = args.node_names;
    const state::NodeTable& table = snapshot.nodes();
    const bool cut = settings.filter_top_k > 0;
    scratch.rows.clear();
    scratch.positions.clear();
    scratch.node_keys.clear();
    NodeResolver resolver(snapshot, scratch.filter_memo, count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t index = resolver.resolve(i, names[i]);
      Verdict verdict;
      if (index == kUnknownNode) {
        // Never reported: nothing this scheduling cycle (or a preemption) can change about that.
        verdict = {core::FitReason::kNoReport, true};
      } else {
        const core::FitResult result = core::fit(pod, table.row(index), context);
        verdict = {result.reason, result.unresolvable};
      }
      verdicts[i] = verdict;
      if (verdict.reason != core::FitReason::kFits) {
        failed.push_back(static_cast<std::uint32_t>(i));
      } else if (cut) {
        scratch.rows.push_back(&table.row(index));
        scratch.positions.push_back(static_cast<std::uint32_t>(i));
        scratch.node_keys.push_back(index);
      }
    }
    if (cut && scratch.rows.size() > settings.filter_top_k) {
      keep_top_k(args, snapshot, settings, scratch);
    }
  } else {
    verdicts.assign(count, Verdict{});
  }
  if (args.plain_names) {
    write_reply<true>(args, scratch, reply);
  } else {
    write_reply<false>(args, scratch, reply);
  }
}

void write_filter_error(std::string_view message, std::string& reply) {
  reply.clear();
  reply.append(
      "{\"Nodes\":null,\"NodeNames\":[],\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{},"
      "\"Error\":");
  codec::append_json_string(reply, message);
  reply.push_back('}');
}

}  // namespace epc::http::handlers
