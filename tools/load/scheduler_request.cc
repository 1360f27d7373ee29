#include "tools/load/scheduler_request.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "common/byte_format.h"

namespace epc::tools::load {

namespace {

// splitmix64: spreads consecutive indexes over the UID's bits.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The recorded pod (tests/data/kube-scheduler/filter-request-nodenames.json, kube-scheduler
// v1.32.13), cut where the per-pod values go. The managedFields entry is the one kubectl create
// leaves; v1.36 strips managedFields from the Pod it sends, v1.32 does not.
constexpr std::string_view kManagedFields =
    R"("managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"v1",)"
    R"("time":"2026-11-26T17:47:07Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{)"
    R"("f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},)"
    R"("f:name":{},"f:resources":{".":{},"f:limits":{".":{},"f:sgx.intel.com/enclave":{},)"
    R"("f:sgx.intel.com/epc":{}},"f:requests":{".":{},"f:sgx.intel.com/enclave":{},)"
    R"("f:sgx.intel.com/epc":{}}},"f:terminationMessagePath":{},)"
    R"("f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},)"
    R"("f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},)"
    R"("f:terminationGracePeriodSeconds":{}}}}])";
constexpr std::string_view kContainerHead =
    R"("spec":{"containers":[{"name":"app","image":"registry.invalid/sgx-demo:1.0","resources":)";
constexpr std::string_view kSpecTail =
    R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
    R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",)"
    R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},)"
    R"("schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready",)"
    R"("operator":"Exists","effect":"NoExecute","tolerationSeconds":300},)"
    R"({"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",)"
    R"("tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,)"
    R"("preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending",)"
    R"("qosClass":"BestEffort"}})";

// {"sgx.intel.com/enclave":"1","sgx.intel.com/epc":"64Mi"}: Go writes map keys sorted.
void append_resource_list(std::string& out, const LoadPod& pod) {
  out.append("{");
  bool first = true;
  if (pod.enclave_slots > 0) {
    out.append(R"("sgx.intel.com/enclave":")").append(std::to_string(pod.enclave_slots));
    out.append("\"");
    first = false;
  }
  if (pod.epc_bytes > 0) {
    out.append(first ? "" : ",").append(R"("sgx.intel.com/epc":")");
    out.append(common::quantity_string(pod.epc_bytes)).append("\"");
  }
  out.append("}");
}

}  // namespace

LoadPod load_pod(std::uint64_t index, std::int64_t epc_bytes, std::string_view run_tag) {
  LoadPod pod;
  char name[64];
  std::snprintf(name, sizeof name, "%.*s-pod-%06llu", static_cast<int>(run_tag.size()),
                run_tag.data(), static_cast<unsigned long long>(index));
  pod.name = name;
  const std::uint64_t a = mix(index ^ (std::hash<std::string_view>{}(run_tag) << 1));
  const std::uint64_t b = mix(a);
  char uid[40];
  // A version-4-shaped UUID, as kube-apiserver makes them.
  std::snprintf(
      uid, sizeof uid, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
      static_cast<unsigned long long>(a & 0xfff), static_cast<unsigned long long>(b >> 52),
      static_cast<unsigned long long>(b & 0xffffffffffffULL));
  pod.uid = uid;
  pod.epc_bytes = epc_bytes;
  return pod;
}

std::string pod_json(const LoadPod& pod) {
  std::string out;
  out.reserve(2400);
  out.append(R"({"metadata":{"name":")");
  append_json_string_content(out, pod.name);
  out.append(R"(","namespace":")");
  append_json_string_content(out, pod.namespace_name);
  out.append(R"(","uid":")");
  append_json_string_content(out, pod.uid);
  out.append(R"(","resourceVersion":"224","creationTimestamp":"2026-11-26T17:47:07Z",)");
  out.append(kManagedFields);
  out.append("},");
  out.append(kContainerHead);
  out.append(R"({"limits":)");
  append_resource_list(out, pod);
  out.append(R"(,"requests":)");
  append_resource_list(out, pod);
  out.append("},");
  out.append(kSpecTail);
  return out;
}

void append_json_string_content(std::string& out, std::string_view text) {
  // Node and pod names never need escaping: check, then copy them whole (this runs for every name
  // of every filter reply the client turns into a prioritize request).
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  });
  if (plain) {
    out.append(text);
    return;
  }
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
}

std::string node_names_json(std::span<const std::string> names) {
  std::string out;
  out.reserve(names.size() * 20);
  for (std::size_t i = 0; i < names.size(); ++i) {
    out.append(i == 0 ? "\"" : ",\"");
    append_json_string_content(out, names[i]);
    out.push_back('"');
  }
  return out;
}

std::string load_node_name(std::string_view prefix, int index) {
  char number[16];
  std::snprintf(number, sizeof number, "%05d", index);
  std::string out(prefix);
  out.append(number);
  return out;
}

void cache_mode_args(std::string_view pod_json, std::string_view names_json, std::string& out) {
  out.clear();
  out.append(R"({"Pod":)");
  out.append(pod_json);
  out.append(R"(,"Nodes":null,"NodeNames":[)");
  out.append(names_json);
  out.append("]}");
}

}  // namespace epc::tools::load
