#pragma once

#include <cstdint>
#include <string>

namespace epc::tools::demo {

// "37.5%" with one decimal; 0 when the whole is 0.
std::string format_percent(std::int64_t part, std::int64_t whole);

}  // namespace epc::tools::demo
