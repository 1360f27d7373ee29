#include "tools/demo/pod_json.h"

#include <chrono>
#include <ctime>

#include <boost/json.hpp>

#include "common/byte_format.h"

namespace epc::tools::demo {

namespace {

namespace json = boost::json;

// Go's encoding/json writes map keys sorted, so the resource names come out in this order.
json::object resource_list(const DemoContainer& c) {
  json::object list;
  if (c.enclave_slots > 0) {
    list["sgx.intel.com/enclave"] = std::to_string(c.enclave_slots);
  }
  if (c.epc_bytes > 0) {
    list["sgx.intel.com/epc"] = common::quantity_string(c.epc_bytes);
  }
  if (c.provision_slots > 0) {
    list["sgx.intel.com/provision"] = std::to_string(c.provision_slots);
  }
  return list;
}

json::object container_json(const DemoContainer& c) {
  json::object out;
  out["name"] = c.name;
  out["image"] = c.image;
  json::object resources;
  resources["limits"] = resource_list(c);
  resources["requests"] = resource_list(c);
  out["resources"] = std::move(resources);
  if (c.sidecar) {
    out["restartPolicy"] = "Always";
  }
  out["terminationMessagePath"] = "/dev/termination-log";
  out["terminationMessagePolicy"] = "File";
  out["imagePullPolicy"] = "IfNotPresent";
  return out;
}

json::object toleration(std::string_view key) {
  json::object t;
  t["key"] = key;
  t["operator"] = "Exists";
  t["effect"] = "NoExecute";
  t["tolerationSeconds"] = 300;
  return t;
}

json::object pod_json(const DemoPod& pod, const PodServerFields& server) {
  json::object labels;
  labels["app"] = pod.app;
  labels["pod-template-hash"] = pod.template_hash;

  json::object metadata;
  metadata["name"] = pod.name;
  metadata["generateName"] = pod.app + "-" + pod.template_hash + "-";
  metadata["namespace"] = pod.namespace_name;
  metadata["uid"] = pod.uid;
  metadata["resourceVersion"] = server.resource_version;
  metadata["creationTimestamp"] = server.creation_timestamp;
  metadata["labels"] = std::move(labels);

  json::array containers;
  for (const DemoContainer& c : pod.containers) {
    containers.push_back(container_json(c));
  }
  json::object spec;
  if (!pod.init_containers.empty()) {
    json::array init;
    for (const DemoContainer& c : pod.init_containers) {
      init.push_back(container_json(c));
    }
    spec["initContainers"] = std::move(init);
  }
  spec["containers"] = std::move(containers);
  spec["restartPolicy"] = "Always";
  spec["terminationGracePeriodSeconds"] = 30;
  spec["dnsPolicy"] = "ClusterFirst";
  spec["securityContext"] = json::object();
  spec["schedulerName"] = "default-scheduler";
  spec["tolerations"] = json::array{toleration("node.kubernetes.io/not-ready"),
                                    toleration("node.kubernetes.io/unreachable")};
  if (pod.priority > 0) {
    // Admission resolves the class name into spec.priority; both are in the stored pod.
    spec["priorityClassName"] = pod.priority >= 1000 ? "sgx-critical" : "sgx-standard";
  }
  spec["priority"] = pod.priority;
  spec["enableServiceLinks"] = true;
  spec["preemptionPolicy"] = "PreemptLowerPriority";

  json::object status;
  status["phase"] = "Pending";
  // QoS looks at cpu and memory only; these pods list neither.
  status["qosClass"] = "BestEffort";

  json::object out;
  out["metadata"] = std::move(metadata);
  out["spec"] = std::move(spec);
  out["status"] = std::move(status);
  return out;
}

}  // namespace

std::string extender_args_json(const DemoPod& pod, const PodServerFields& server,
                               std::span<const std::string> node_names) {
  json::array names;
  names.reserve(node_names.size());
  for (const std::string& n : node_names) {
    names.emplace_back(n);
  }
  json::object args;
  args["Pod"] = pod_json(pod, server);
  args["Nodes"] = nullptr;
  args["NodeNames"] = std::move(names);
  return json::serialize(args);
}

std::string rfc3339_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace epc::tools::demo
