#pragma once

// The cluster and request shared by the HTTP benchmarks: 5,000 SGX nodes (or any count) with
// uneven use, and the cache-mode ExtenderArgs kube-scheduler sends for one enclave pod (64Mi EPC +
// 1 enclave slot).

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "extender/state/cluster_state.h"

namespace epc::http::bench {

inline constexpr int kNodes = 5000;
inline constexpr std::int64_t kMi = 1024 * 1024;

inline std::string node_name(int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "sgx-node-%05d", i);
  return name;
}

// One node's report: 64..512 MiB EPC, 110 enclave slots, a few pods' worth in use.
inline state::ReportMessage report(int i) {
  state::NodeState full;
  full.sgx_present = true;
  full.epc_capacity_bytes = (64 + (i % 8) * 64) * kMi;
  full.epc_sections = {{0, full.epc_capacity_bytes}};
  full.enclave_slots = {110, i % 5};
  full.provision_slots = {110, 0};
  for (int pod = 0; pod < i % 5; ++pod) {
    full.holders.push_back(core::SlotHolder{
        {"bench/pod-" + std::to_string(i) + "-" + std::to_string(pod), ""}, 16 * kMi, 1, 0});
  }
  state::ReportMessage message;
  message.node_name = node_name(i);
  message.instance_id = "bench";
  message.sequence = 1;
  message.body = std::move(full);
  return message;
}

// A ClusterState holding the reports of nodes 0..nodes-1; nullptr if the writer lost one.
inline std::unique_ptr<state::ClusterState> make_cluster(int nodes = kNodes) {
  std::unique_ptr<state::ClusterState> cluster = state::ClusterState::create({});
  for (int i = 0; i < nodes; ++i) {
    cluster->apply_async(report(i), [](common::Result<std::uint64_t>) {});
  }
  cluster->flush();
  if (cluster->snapshot()->size() != static_cast<std::size_t>(nodes)) {
    return nullptr;
  }
  return cluster;
}

// The request kube-scheduler sends in cache mode: the pod (64Mi + 1 enclave slot) and all names.
inline std::string request_body() {
  std::string body =
      R"({"Pod":{"metadata":{"name":"enclave-app-0","namespace":"prod","uid":"9c1d6f3e-1b7a-4c8e-a1c3-5e2f0b9d4a11"},)"
      R"("spec":{"containers":[{"name":"app","image":"registry.local/enclave-app:1.4",)"
      R"("resources":{"limits":{"sgx.intel.com/enclave":"1","sgx.intel.com/epc":"64Mi"},)"
      R"("requests":{"sgx.intel.com/enclave":"1","sgx.intel.com/epc":"64Mi"}}}]},)"
      R"("status":{"phase":"Pending"}},"Nodes":null,"NodeNames":[)";
  for (int i = 0; i < kNodes; ++i) {
    if (i > 0) {
      body.push_back(',');
    }
    body.append("\"").append(node_name(i)).append("\"");
  }
  body.append("]}");
  return body;
}

}  // namespace epc::http::bench
