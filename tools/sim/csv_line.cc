#include "tools/sim/csv_line.h"

#include <cstddef>

namespace epc::tools::sim {

std::string_view trim_cell(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r";
  const std::size_t first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

void split_csv_line(std::string_view line, std::vector<std::string_view>& cells) {
  cells.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      cells.push_back(trim_cell(line.substr(start)));
      return;
    }
    cells.push_back(trim_cell(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

std::string_view header_line(std::string_view line) {
  std::string_view header = trim_cell(line);
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (header.starts_with(kByteOrderMark)) {
    header.remove_prefix(kByteOrderMark.size());
  }
  return header;
}

}  // namespace epc::tools::sim
