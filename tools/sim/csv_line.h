#pragma once

#include <string_view>
#include <vector>

namespace epc::tools::sim {

// The plain CSV both trace readers accept: comma-separated cells, no quoting, blanks around cells
// ignored, CRLF or LF line ends.

// `text` without leading and trailing blanks (' ', '\t', and the '\r' of a CRLF line end).
std::string_view trim_cell(std::string_view text);

// Splits on commas into `cells` (cleared first, reused across lines so a row allocates nothing once
// warm), each trimmed. The views point into `line`. "a,b," has three cells, the last one empty.
void split_csv_line(std::string_view line, std::vector<std::string_view>& cells);

// A header line trimmed and without the UTF-8 byte-order mark that spreadsheet exports put first.
std::string_view header_line(std::string_view line);

}  // namespace epc::tools::sim
