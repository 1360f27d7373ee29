#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace epc::reports {

// The "exp" claim (Unix seconds) of a JWT, read without checking its signature: only for how long
// a token kube-apiserver already accepted may be trusted, never to accept one. nullopt when the
// token is not a JWT with a numeric exp (then the cache TTL alone bounds it).
std::optional<std::int64_t> jwt_expiry_unix_s(std::string_view token);

}  // namespace epc::reports
