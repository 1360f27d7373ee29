#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "extender/core/ledger.h"
#include "extender/core/pod_request.h"
#include "extender/state/api_message.h"

namespace epc::kube {

// kube-apiserver's list bodies and watch event lines for pods and nodes, decoded to the values the
// state writer takes (simdjson On-Demand; the object walk is extender/http/codec's pod decoder, the
// one that reads kube-scheduler's Pod, so both sides compute a pod's demand the same way).

enum class WatchEventType : std::uint8_t { kAdded, kModified, kDeleted, kBookmark, kError };

// One list page's metadata.
struct ListPage {
  std::string resource_version;
  std::string continue_token;  // empty on the last page
};

// Any pod, SGX or not, reduced to what its node's CPU and memory totals need.
struct PodCpuMemory {
  std::string uid;
  std::string node;       // spec.nodeName; empty while pending
  bool terminal = false;  // Succeeded or Failed: kube-scheduler no longer counts it on the node
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;

  // kube-scheduler counts the pod's requests on its node (terminating pods too: they still run).
  bool counted() const { return !node.empty() && !terminal; }
  friend bool operator==(const PodCpuMemory&, const PodCpuMemory&) = default;
};

// One decoded watch event. `resource_version` is the object's (for BOOKMARK the only content);
// for ERROR, `error_code` and `error_message` come from the Status object.
struct PodEvent {
  WatchEventType type = WatchEventType::kAdded;
  std::string resource_version;
  bool sgx = false;  // an SGX pod: `pod` is filled
  core::ApiPod pod;
  // The pod was decoded and has a UID: `cpu_memory` is filled. False for bookmarks, errors, pods
  // without a UID, and lines the decoder could skip (neither SGX nor bound: see PodDecoder).
  bool has_cpu_memory = false;
  PodCpuMemory cpu_memory;
  std::int64_t error_code = 0;
  std::string error_message;
};

struct NodeEvent {
  WatchEventType type = WatchEventType::kAdded;
  std::string resource_version;
  state::ApiNode node;
  std::int64_t error_code = 0;
  std::string error_message;
};

// Decodes pods. Every pod is decoded for its CPU and memory (PodCpuMemory), but only SGX pods
// become ledger pods (ApiPod). An event line that names none of the SGX resources
// (sgx.intel.com/… or a configured alias) and no "nodeName" is not decoded beyond its type and
// resource version: such a pod is unbound and was never bound (spec.nodeName, once set, stays in
// every later version of the object), so it changes no total. Thread-safety: none (one per watch
// thread).
class PodDecoder {
 public:
  explicit PodDecoder(const core::PodRequestOptions& options);
  ~PodDecoder();
  PodDecoder(const PodDecoder&) = delete;
  PodDecoder& operator=(const PodDecoder&) = delete;

  // A PodList page: appends its SGX pods to `out` and, when `cpu_memory` is given, every pod with
  // a UID to it. `body` must have kJsonPadding spare capacity (the caller reserves it) or is
  // copied.
  common::Result<ListPage> decode_list(std::string& body, std::vector<core::ApiPod>& out,
                                       std::vector<PodCpuMemory>* cpu_memory = nullptr);
  // One watch line, into `event` (reused between calls).
  common::Result<bool> decode_event(std::string_view line, PodEvent& event);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class NodeDecoder {
 public:
  explicit NodeDecoder(const core::PodRequestOptions& options);
  ~NodeDecoder();
  NodeDecoder(const NodeDecoder&) = delete;
  NodeDecoder& operator=(const NodeDecoder&) = delete;

  common::Result<ListPage> decode_list(std::string& body, std::vector<state::ApiNode>& out);
  common::Result<bool> decode_event(std::string_view line, NodeEvent& event);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epc::kube
