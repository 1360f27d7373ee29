#include "deviceplugin/sgx/cpu_flags.h"

namespace epc::deviceplugin::sgx {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

CpuFlags flags_of(std::string_view list) {
  CpuFlags flags;
  while (!list.empty()) {
    while (!list.empty() && is_blank(list.front())) {
      list.remove_prefix(1);
    }
    std::size_t n = 0;
    while (n < list.size() && !is_blank(list[n])) {
      ++n;
    }
    const std::string_view word = list.substr(0, n);
    list.remove_prefix(n);
    if (word == "sgx") {
      flags.sgx = true;
    } else if (word == "sgx_lc") {
      flags.sgx_lc = true;
    } else if (word == "sgx2") {
      flags.sgx2 = true;
    }
  }
  return flags;
}

}  // namespace

common::Result<CpuFlags> parse_cpu_flags(std::string_view cpuinfo) {
  while (!cpuinfo.empty()) {
    const std::size_t eol = cpuinfo.find('\n');
    const std::string_view line = cpuinfo.substr(0, eol);
    cpuinfo.remove_prefix(eol == std::string_view::npos ? cpuinfo.size() : eol + 1);
    // "flags\t\t: fpu vme ... sgx sgx_lc"
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(0, colon)) != "flags") {
      continue;
    }
    return flags_of(line.substr(colon + 1));
  }
  return common::Error{"no 'flags' line in cpuinfo"};
}

}  // namespace epc::deviceplugin::sgx
