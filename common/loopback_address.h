#pragma once

#include <string_view>

namespace epc::common {

// Whether a listen or dial host is reachable from this machine only: 127.0.0.0/8, ::1 (bracketed
// or not), "localhost", or a unix socket address ("unix:..."). Plain text is safe there without
// being asked for; anywhere else the configuration must say so (docs/security.md).
bool is_loopback_host(std::string_view host);

// The host part of "host:port", "[v6]:port" or "unix:path" (returned whole); "host" without a
// port is returned as is.
std::string_view host_of(std::string_view address);

}  // namespace epc::common
