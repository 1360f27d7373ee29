#include "extender/reports/stream_identity.h"

namespace epc::reports {

std::optional<std::string> node_of_common_name(std::string_view common_name) {
  constexpr std::string_view kPrefix = "system:node:";
  if (!common_name.starts_with(kPrefix) || common_name.size() == kPrefix.size()) {
    return std::nullopt;
  }
  return std::string(common_name.substr(kPrefix.size()));
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r')) {
    token.remove_suffix(1);
  }
  if (token.empty()) {
    return std::nullopt;
  }
  return token;
}

}  // namespace epc::reports
