#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "extender/core/pod_request.h"
#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/json_writer.h"
#include "extender/http/codec/padded_buffer.h"

namespace epc::http::codec {

// Which map of ExtenderPreemptionArgs carried the candidates (spec/extender-api.md §4.4, §5).
enum class VictimSource : std::uint8_t {
  kNone,         // both maps null or absent: no candidate node
  kMetaVictims,  // nodeCacheCapable: true — NodeNameToMetaVictims, victim UIDs only
  kVictims,      // nodeCacheCapable: false — NodeNameToVictims, full v1.Pod victims
};

// One victim kube-scheduler proposes to evict.
struct PreemptVictim {
  std::string_view uid;  // never empty (the decoder refuses a victim without one)
  // kVictims only: the victim's own v1.Pod was decoded, and these are its SGX demand
  // (with its CPU and memory, codec::pod_request) and spec.priority. false in cache mode (UID
  // only).
  bool pod_decoded = false;
  core::PodRequest request;
  std::int32_t priority = 0;
};

// One candidate node of the request, with kube-scheduler's proposal for it.
struct PreemptNode {
  std::string_view name;                   // the map key, unescaped
  std::int64_t num_pdb_violations = 0;     // NumPDBViolations as sent
  std::span<const PreemptVictim> victims;  // in the order sent; empty for "Pods": [] or null
};

// A decoded ExtenderPreemptionArgs (the preempt request body).
//
// Lifetime: every view points into the request body or into the decoder's parser and storage; all
// are invalid after the next decode() on the same decoder or when the body buffer changes.
struct PreemptArgsView {
  PodIdentity pod;            // the preemptor
  core::PodRequest request;   // the preemptor's demand (codec::pod_request)
  std::int32_t priority = 0;  // the preemptor's spec.priority (0 when absent)
  VictimSource source = VictimSource::kNone;
  std::span<const PreemptNode> nodes;  // in request order (Go writes map keys sorted)
};

// Decodes ExtenderPreemptionArgs with simdjson On-Demand, straight from the padded request body.
//
// Rules (as ExtenderArgsDecoder, spec §2): keys (Pod, NodeNameToVictims, NodeNameToMetaVictims,
// Pods, NumPDBViolations, UID, and those inside the v1.Pod objects) match ASCII-case-insensitively
// as Go's encoding/json does; null and absent are the same; unknown keys are ignored; a repeated
// key replaces the earlier value. Node names (map keys) are data and kept as sent. A map entry
// that is null or whose Pods is null or [] is a node without proposed victims (newer schedulers
// send such entries, spec §4.4). When both maps are non-null, NodeNameToVictims wins: its full
// pods say more.
//
// Errors (malformed JSON, wrong types, NumPDBViolations not an integer, a victim without a UID, a
// bad or negative quantity in any pod) are values whose message names the map, the node and the
// victim at fault, e.g.
//   NodeNameToMetaVictims["node-a"].Pods[1]: UID must be a string, got a number
//
// One decoder per connection: the parser and the result vectors are reused, so a warmed-up
// decoder allocates nothing per request. Thread-safety: none.
class PreemptArgsDecoder {
 public:
  // `max_body_bytes` caps the parser's capacity (= the HTTP body limit); larger documents fail.
  explicit PreemptArgsDecoder(std::size_t max_body_bytes);
  ~PreemptArgsDecoder();
  PreemptArgsDecoder(const PreemptArgsDecoder&) = delete;
  PreemptArgsDecoder& operator=(const PreemptArgsDecoder&) = delete;

  common::Result<PreemptArgsView> decode(const PaddedBuffer& body,
                                         const core::PodRequestOptions& options);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes ExtenderPreemptionResult into a caller-owned string (replacing its content):
//
//   {"NodeNameToMetaVictims":{"<node>":{"Pods":[{"UID":"<uid>"},...],"NumPDBViolations":N},...}}
//
// The key is NodeNameToMetaVictims in both modes (spec §3: there is no NodeNameToVictims in the
// result, and the result type has no Error field). Names and UIDs are JSON-escaped. Usage:
// construct, add_node() per accepted node, finish(); the writer must not be used afterwards.
// Thread-safety: none.
class PreemptResultWriter {
 public:
  // `size_hint`: close to the reply's size (ReplyWriter zero-fills it, and doubles when short).
  PreemptResultWriter(std::string& reply, std::size_t size_hint);
  PreemptResultWriter(const PreemptResultWriter&) = delete;
  PreemptResultWriter& operator=(const PreemptResultWriter&) = delete;

  // One accepted node and the UIDs to evict there. kube-scheduler refuses a returned node without
  // a victim ("expected at least one victim pod on node"), so a node with no UID is not written.
  void add_node(std::string_view name, std::span<const std::string_view> uids,
                std::int64_t num_pdb_violations);
  void finish();

 private:
  ReplyWriter out_;
  bool first_ = true;
};

// The preempt reply for a request that could not be answered (malformed body, bad quantity, ...):
//   {"NodeNameToMetaVictims":{},"Error":"<message>"}
// HTTP 200: the empty map means "no preemption possible" to kube-scheduler, and the Error key,
// which Go's decoder ignores for preempt, says why to whoever reads the wire.
void write_preempt_error(std::string_view message, std::string& reply);

}  // namespace epc::http::codec
