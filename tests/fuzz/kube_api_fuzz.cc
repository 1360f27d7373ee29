// Fuzz target: the Kubernetes API decoders the informers use (extender/kube/api_objects.h): the
// input is tried as a PodList and a NodeList body, and each of its lines as a pod and a node watch
// event. No decoder may crash or read past the body; every refusal is explained; accepted pods
// have a UID and a non-negative demand, accepted nodes a name and non-negative allocatable SGX
// resources; an ERROR event carries its Status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "extender/kube/api_objects.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void check_pod(const epc::core::ApiPod& pod) {
  EPC_FUZZ_CHECK(!pod.pod.uid.empty());
  EPC_FUZZ_CHECK(pod.request.epc_bytes >= 0 && pod.request.enclave_slots >= 0 &&
                 pod.request.provision_slots >= 0);
}

void check_node(const epc::state::ApiNode& node) {
  EPC_FUZZ_CHECK(!node.name.empty());
  EPC_FUZZ_CHECK(node.epc_bytes.value_or(0) >= 0);
  EPC_FUZZ_CHECK(node.enclave_slots.value_or(0) >= 0);
  EPC_FUZZ_CHECK(node.provision_slots.value_or(0) >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const epc::core::PodRequestOptions options;
  static epc::kube::PodDecoder pods(options);
  static epc::kube::NodeDecoder nodes(options);
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  {
    std::string body(input);
    std::vector<epc::core::ApiPod> out;
    const auto page = pods.decode_list(body, out);
    epc::fuzz::check_error_explained(page);
    if (page.ok()) {
      for (const auto& pod : out) {
        check_pod(pod);
      }
    }
  }
  {
    std::string body(input);
    std::vector<epc::state::ApiNode> out;
    const auto page = nodes.decode_list(body, out);
    epc::fuzz::check_error_explained(page);
    if (page.ok()) {
      for (const auto& node : out) {
        check_node(node);
      }
    }
  }

  // A watch stream: one JSON event per line.
  epc::kube::PodEvent pod_event;
  epc::kube::NodeEvent node_event;
  std::string_view rest = input;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);

    const auto pod_ok = pods.decode_event(line, pod_event);
    epc::fuzz::check_error_explained(pod_ok);
    if (pod_ok.ok() && *pod_ok && pod_event.sgx &&
        pod_event.type != epc::kube::WatchEventType::kBookmark &&
        pod_event.type != epc::kube::WatchEventType::kError) {
      check_pod(pod_event.pod);
    }
    const auto node_ok = nodes.decode_event(line, node_event);
    epc::fuzz::check_error_explained(node_ok);
    if (node_ok.ok() && *node_ok &&
        (node_event.type == epc::kube::WatchEventType::kAdded ||
         node_event.type == epc::kube::WatchEventType::kModified)) {
      check_node(node_event.node);
    }
  }
  return 0;
}
