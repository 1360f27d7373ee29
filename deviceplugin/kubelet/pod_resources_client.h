#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace epc::deviceplugin::kubelet {

// Default PodResources socket (spec §1); mount its directory, not the file, so a kubelet restart's
// new socket is seen.
inline constexpr std::string_view kDefaultPodResourcesSocket =
    "/var/lib/kubelet/pod-resources/kubelet.sock";

// One active pod that holds devices of the resources asked about.
struct PodDeviceUse {
  std::string pod_namespace;
  std::string pod_name;
  // resource name -> distinct device ids the pod holds (over its listed containers).
  std::map<std::string, std::uint32_t> devices;
};

// Reads kubelet's PodResources API v1 to learn which pods hold our slots: the only place where
// slots freed by finished pods show up (there is no Deallocate, spec §8.1). An interface because
// it is a process edge (real: PodResourcesClientImpl; tests may fake it).
//
// Thread-safety: list() from one thread at a time.
class PodResourcesClient {
 public:
  virtual ~PodResourcesClient() = default;

  // PodResourcesLister/List, reduced to the pods holding devices of `resources`, in kubelet's
  // order. Kubelet rate-limits this call (100/s, burst 10): callers poll sparingly.
  virtual common::Result<std::vector<PodDeviceUse>> list(
      const std::vector<std::string>& resources) = 0;
};

}  // namespace epc::deviceplugin::kubelet
