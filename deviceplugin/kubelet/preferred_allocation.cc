#include "deviceplugin/kubelet/preferred_allocation.h"

#include <algorithm>

namespace epc::deviceplugin::kubelet {

std::vector<std::string> preferred_allocation(const std::vector<std::string>& available,
                                              const std::vector<std::string>& must_include,
                                              std::int32_t size) {
  std::vector<std::string> chosen;
  const auto contains = [&chosen](const std::string& id) {
    return std::find(chosen.begin(), chosen.end(), id) != chosen.end();
  };
  for (const std::string& id : must_include) {
    if (!contains(id)) {
      chosen.push_back(id);
    }
  }
  const std::size_t want = size > 0 ? static_cast<std::size_t>(size) : 0;
  for (const std::string& id : available) {
    if (chosen.size() >= want) {
      break;
    }
    if (!contains(id)) {
      chosen.push_back(id);
    }
  }
  return chosen;
}

}  // namespace epc::deviceplugin::kubelet
