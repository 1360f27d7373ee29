#include "tools/demo/failure_message.h"

#include <algorithm>
#include <vector>

namespace epc::tools::demo {

std::string failed_scheduling_message(int total_nodes, const NodeReasons& failed,
                                      const NodeReasons& failed_unresolvable) {
  std::map<std::string, int> histogram;
  for (const auto& [node, reason] : failed_unresolvable) {
    ++histogram[reason];
  }
  for (const auto& [node, reason] : failed) {
    if (!failed_unresolvable.contains(node)) {
      ++histogram[reason];
    }
  }
  std::vector<std::string> parts;
  parts.reserve(histogram.size());
  for (const auto& [reason, count] : histogram) {
    parts.push_back(std::to_string(count) + " " + reason);
  }
  std::sort(parts.begin(), parts.end());
  std::string message = "0/" + std::to_string(total_nodes) + " nodes are available";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    message += (i == 0 ? ": " : ", ");
    message += parts[i];
  }
  message += ".";
  return message;
}

}  // namespace epc::tools::demo
