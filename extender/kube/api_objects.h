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

// One decoded watch event. `resource_version` is the object's (for BOOKMARK the only content);
// for ERROR, `error_code` and `error_message` come from the Status object.
struct PodEvent {
  WatchEventType type = WatchEventType::kAdded;
  std::string resource_version;
  bool sgx = false;  // an SGX pod: `pod` is filled; else only the resource version was read
  core::ApiPod pod;
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

// Decodes pods. Most pods in a cluster are not SGX pods: an event line that names none of the SGX
// resources (sgx.intel.com/… or a configured alias) is not decoded beyond its type and resource
// version, so memory and time follow the SGX pods. Thread-safety: none (one per watch thread).
class PodDecoder {
 public:
  explicit PodDecoder(const core::PodRequestOptions& options);
  ~PodDecoder();
  PodDecoder(const PodDecoder&) = delete;
  PodDecoder& operator=(const PodDecoder&) = delete;

  // A PodList page: appends its SGX pods to `out`. `body` must have kJsonPadding spare capacity
  // (the caller reserves it) or is copied.
  common::Result<ListPage> decode_list(std::string& body, std::vector<core::ApiPod>& out);
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
