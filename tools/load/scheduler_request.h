#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace epc::tools::load {

// One pending SGX pod as kube-scheduler's informer cache holds it.
struct LoadPod {
  std::string name;
  std::string namespace_name = "default";
  std::string uid;
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 1;
};

// The pod of scheduling cycle `index` (0, 1, ...): "load-pod-000000", a UID made from the index
// (the same index gives the same UID, different indexes different UIDs), and the given EPC.
// `run_tag` (any short lower-case word) keeps the pods of two runs against one extender apart.
LoadPod load_pod(std::uint64_t index, std::int64_t epc_bytes, std::string_view run_tag = "load");

// The pod in the API's JSON as kube-scheduler sends it in ExtenderArgs.Pod: the shape of the pod
// recorded from kube-scheduler v1.32.13 (tests/data/kube-scheduler/filter-request-nodenames.json,
// with its managedFields, tolerations and status), with this pod's name, namespace, UID and EPC
// (requests = limits, as the recorded pod).
std::string pod_json(const LoadPod& pod);

// `"name-0","name-1",...`: the inside of ExtenderArgs.NodeNames, built once per name list.
std::string node_names_json(std::span<const std::string> names);

// "load-node-00000", "load-node-00001", ...: the names the feeder registers (report_feeder.h).
std::string load_node_name(std::string_view prefix, int index);

// Appends `text` as the inside of a JSON string (quotes, backslashes and control characters
// escaped).
void append_json_string_content(std::string& out, std::string_view text);

// Writes the cache-mode ExtenderArgs kube-scheduler POSTs (nodeCacheCapable: true) into `out`:
// {"Pod":<pod_json>,"Nodes":null,"NodeNames":[<names_json>]}. `out` keeps its capacity.
void cache_mode_args(std::string_view pod_json, std::string_view names_json, std::string& out);

}  // namespace epc::tools::load
