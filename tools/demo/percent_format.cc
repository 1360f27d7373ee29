#include "tools/demo/percent_format.h"

namespace epc::tools::demo {

std::string format_percent(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) {
    return "0.0%";
  }
  const std::int64_t tenths = (part * 1000 + whole / 2) / whole;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

}  // namespace epc::tools::demo
