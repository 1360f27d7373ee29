#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "common/result.h"
#include "extender/core/pod_request.h"
#include "extender/http/codec/padded_buffer.h"

namespace epc::http::codec {

// Where the candidate nodes of an ExtenderArgs came from (spec/extender-api.md §5).
enum class NodeSource : std::uint8_t {
  kNone,       // both Nodes and NodeNames null or absent: no candidates
  kNodeNames,  // nodeCacheCapable: true — names only
  kNodeList,   // nodeCacheCapable: false — full v1.NodeList in Nodes.items
};

// The pod being scheduled, as far as the extender cares.
struct PodIdentity {
  std::string_view name;
  std::string_view namespace_name;  // metadata.namespace
  std::string_view uid;
};

// A decoded ExtenderArgs (the filter and prioritize request body).
//
// Lifetime: every view points into the request body or into the decoder's parser; all of them are
// invalid after the next decode() on the same decoder or when the body buffer changes. Never keep
// one beyond the request.
struct ExtenderArgsView {
  PodIdentity pod;
  core::PodRequest request;  // computed once per request (pod_request: SGX, CPU, memory)
  NodeSource source = NodeSource::kNone;
  // Candidate node names, in request order.
  std::span<const std::string_view> node_names;
  // True when every node name is printable ASCII without '"' or '\\' (always so for Kubernetes
  // node names): the names can be written into a JSON reply verbatim, between quotes, without
  // the escaping pass.
  bool plain_names = false;
  // kNodeList only: the raw JSON text of each Nodes.items[i] (same order as node_names), echoed
  // verbatim in the filter reply.
  std::span<const std::string_view> node_items;
};

// Decodes ExtenderArgs with simdjson On-Demand, straight from the padded request body.
//
// Rules (spec §2): ExtenderArgs keys (Pod, Nodes, NodeNames) and the keys inside the embedded
// Kubernetes objects match ASCII-case-insensitively, as Go's encoding/json does; null and absent
// are the same; unknown keys are ignored. Resource names (sgx.intel.com/epc, ...) are map keys and
// match exactly. When both Nodes and NodeNames are given, Nodes wins (its items are needed for the
// reply).
//
// Errors (malformed JSON, wrong types, bad or negative quantities) are values with a message a
// person can act on; they name the container and resource at fault.
//
// One decoder per connection: the simdjson parser and the container/name vectors are reused, so a
// warmed-up decoder allocates nothing per request. Thread-safety: none.
class ExtenderArgsDecoder {
 public:
  // `max_body_bytes` caps the parser's capacity (= the HTTP body limit); larger documents fail.
  explicit ExtenderArgsDecoder(std::size_t max_body_bytes);
  ~ExtenderArgsDecoder();
  ExtenderArgsDecoder(const ExtenderArgsDecoder&) = delete;
  ExtenderArgsDecoder& operator=(const ExtenderArgsDecoder&) = delete;

  common::Result<ExtenderArgsView> decode(const PaddedBuffer& body,
                                          const core::PodRequestOptions& options);

  // The same decode without the hand-written fast path for kube-scheduler's usual cache-mode body:
  // the reference the fast path is checked against (unit tests, the differential fuzz target).
  common::Result<ExtenderArgsView> decode_generic_for_test(const PaddedBuffer& body,
                                                           const core::PodRequestOptions& options);

 private:
  common::Result<ExtenderArgsView> decode_with(const PaddedBuffer& body,
                                               const core::PodRequestOptions& options,
                                               bool try_fast_path);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::http::codec
