#include "tests/support/exposition.h"

#include <cstdlib>

namespace epc::test_support {

std::optional<double> exposition_sample(std::string_view text, std::string_view series) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      const std::string value(line.substr(series.size() + 1));
      return std::strtod(value.c_str(), nullptr);
    }
  }
  return std::nullopt;
}

}  // namespace epc::test_support
