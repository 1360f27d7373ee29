#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace epc::tools::demo {

// One container's SGX resources; requests equal limits, as Kubernetes demands of extended
// resources.
struct DemoContainer {
  std::string name;
  std::string image;
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t provision_slots = 0;
  // An init container with restartPolicy: Always (a sidecar): it runs beside the app containers, so
  // its request adds to theirs.
  bool sidecar = false;
};

// A pod as the scheduler sees it while it is Pending.
struct DemoPod {
  std::string namespace_name;  // metadata.namespace
  std::string name;            // metadata.name
  std::string uid;             // metadata.uid
  std::string app;             // labels: app
  std::string template_hash;   // labels: pod-template-hash (the ReplicaSet's)
  std::int32_t priority = 0;
  std::vector<DemoContainer> containers;
  std::vector<DemoContainer> init_containers;  // only sidecars in this mix
  bool oversized = false;  // asks for more EPC than any node has: must be rejected everywhere

  // The pod's demand. Only app containers and sidecars exist here, so Kubernetes' rule
  // max(Σ app + Σ sidecars, largest plain init container) reduces to the sum.
  std::int64_t epc_bytes() const;
  std::int64_t enclave_slots() const;
  std::int64_t provision_slots() const;
  std::string key() const { return namespace_name + "/" + name; }
};

// A deterministic workload for `seed`: mostly small enclaves (16Mi..256Mi), fewer large ones up to
// 8Gi, then a last quarter of large batch jobs (1Gi..8Gi); some need a provision slot (DCAP quote
// generation), one or two carry an attestation sidecar, and one oversized pod (two from 40 pods on)
// fits no node.
std::vector<DemoPod> make_demo_workload(int count, std::uint64_t seed);

}  // namespace epc::tools::demo
