#include "extender/reports/jwt_expiry.h"

#include <string>

#include <simdjson.h>

namespace epc::reports {

namespace {

// base64url without padding (RFC 7515 §2) to bytes; nullopt on any other character.
std::optional<std::string> decode_base64url(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4 + 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int value = 0;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '-') {
      value = 62;
    } else if (c == '_') {
      value = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

}  // namespace

std::optional<std::int64_t> jwt_expiry_unix_s(std::string_view token) {
  const std::size_t first = token.find('.');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  // A projected token's payload is a few hundred bytes; anything far larger is not one.
  const std::string_view payload = token.substr(first + 1, second - first - 1);
  if (payload.size() > 16384) {
    return std::nullopt;
  }
  auto json = decode_base64url(payload);
  if (!json) {
    return std::nullopt;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json->data(), json->size()).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::int64_t exp = 0;
  if (root["exp"].get_int64().get(exp) != simdjson::SUCCESS) {
    double real = 0;
    if (root["exp"].get_double().get(real) != simdjson::SUCCESS || !(real > 0 && real < 1e15)) {
      return std::nullopt;
    }
    exp = static_cast<std::int64_t>(real);
  }
  return exp;
}

}  // namespace epc::reports
