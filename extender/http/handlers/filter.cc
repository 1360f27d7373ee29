#include "extender/http/handlers/filter.h"

#include "extender/core/fit.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/handlers/fit_reason_text.h"
#include "extender/http/handlers/node_lookup.h"

namespace epc::http::handlers {

namespace {

using Verdict = HandlerScratch::Verdict;

// A size close to the reply's: the echoed items, and per node its name plus the longest framing
// (a failed node: quotes, colon, comma and a reason of at most ~40 bytes).
std::size_t reply_size_hint(const codec::ExtenderArgsView& args) {
  std::size_t size = 160;
  for (const std::string_view item : args.node_items) {
    size += item.size() + 1;
  }
  for (const std::string_view name : args.node_names) {
    size += name.size() + 48;
  }
  return size;
}

// Writes the ExtenderFilterResult.
void write_filter_reply(codec::ReplyWriter& out, const codec::ExtenderArgsView& args,
                        const std::vector<Verdict>& verdicts) {
  const std::size_t count = verdicts.size();
  out.raw("{\"Nodes\":");
  if (args.source == codec::NodeSource::kNodeList) {
    // Non-cache mode: kube-scheduler takes Nodes.items as returned, so echo the surviving Node
    // objects byte for byte.
    out.raw("{\"metadata\":{},\"items\":[");
    bool first = true;
    for (std::size_t i = 0; i < count; ++i) {
      if (verdicts[i].reason != core::FitReason::kFits) {
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
  bool first = true;
  for (std::size_t i = 0; i < count; ++i) {
    if (verdicts[i].reason != core::FitReason::kFits) {
      continue;
    }
    if (!first) {
      out.character(',');
    }
    first = false;
    out.string(args.node_names[i]);
  }

  // "name":"reason" pairs of the failed nodes in one of the two maps.
  const auto failures = [&](bool unresolvable) {
    out.character('{');
    bool first_failure = true;
    for (std::size_t i = 0; i < count; ++i) {
      const Verdict& verdict = verdicts[i];
      if (verdict.reason == core::FitReason::kFits || verdict.unresolvable != unresolvable) {
        continue;
      }
      if (!first_failure) {
        out.character(',');
      }
      first_failure = false;
      out.string(args.node_names[i]);
      // Reason texts are fixed and need no JSON escaping (fit_reason_text_test checks them all).
      out.raw(":\"");
      out.raw(fit_reason_text(verdict.reason));
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

}  // namespace

void filter(const codec::ExtenderArgsView& args, const state::Snapshot& snapshot,
            const HandlerSettings& settings, std::int64_t now_ns, HandlerScratch& scratch,
            std::string& reply) {
  const std::size_t count = args.node_names.size();
  std::vector<Verdict>& verdicts = scratch.verdicts;
  verdicts.assign(count, Verdict{});
  if (args.request.wants_sgx()) {
    const core::FitContext context{now_ns, settings.stale_after_ns, settings.accounting};
    resolve_nodes(args.node_names, snapshot, scratch);
    const std::span<const core::NodeRow> rows = snapshot.rows();
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t index = scratch.node_indices[i];
      if (index == kUnknownNode) {
        // Never reported: nothing this scheduling cycle (or a preemption) can change about that.
        verdicts[i] = {core::FitReason::kNoReport, true};
        continue;
      }
      const core::FitResult result = core::fit(args.request, rows[index], context);
      verdicts[i] = {result.reason, result.unresolvable};
    }
  }
  codec::ReplyWriter writer(reply, reply_size_hint(args));
  write_filter_reply(writer, args, verdicts);
  writer.finish();
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
