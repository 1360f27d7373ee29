#include "common/loopback_address.h"

namespace epc::common {

bool is_loopback_host(std::string_view host) {
  if (host.starts_with("unix:") || host.starts_with("unix-abstract:")) {
    return true;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") {
    return true;
  }
  // 127.0.0.0/8: four dotted decimal parts, the first 127 ("127.evil.example" is a name).
  if (!host.starts_with("127.")) {
    return false;
  }
  int dots = 0;
  int digits = 0;
  for (const char c : host) {
    if (c == '.') {
      if (digits == 0 || digits > 3) {
        return false;
      }
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      ++digits;
    } else {
      return false;
    }
  }
  return dots == 3 && digits >= 1 && digits <= 3;
}

std::string_view host_of(std::string_view address) {
  if (address.starts_with("unix:") || address.starts_with("unix-abstract:")) {
    return address;
  }
  if (address.starts_with('[')) {
    const std::size_t close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(0, close + 1);
  }
  const std::size_t colon = address.rfind(':');
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colon == std::string_view::npos || address.find(':') != colon) {
    return address;
  }
  return address.substr(0, colon);
}

}  // namespace epc::common
