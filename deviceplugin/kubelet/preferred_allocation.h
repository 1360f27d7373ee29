#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace epc::deviceplugin::kubelet {

// Which slots to prefer for one container (GetPreferredAllocation). Slots are interchangeable, so
// the preference only makes the choice deterministic and compact: every must_include id first
// (in the given order), then the available ids in the given order, until `size` ids are chosen.
// Ids are not repeated; `size` <= 0 gives just the must_include ids. Kubelet treats the answer as
// advice and tops it up itself, so a short answer is not an error.
std::vector<std::string> preferred_allocation(const std::vector<std::string>& available,
                                              const std::vector<std::string>& must_include,
                                              std::int32_t size);

}  // namespace epc::deviceplugin::kubelet
