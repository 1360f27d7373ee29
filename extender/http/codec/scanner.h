#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace epc::http::codec {

// Byte-level JSON scanning for the decoder's hand-written paths: no simdjson, no allocation beyond
// the caller's vector. The scanners only delimit and recognise. Anything they do not recognise
// gives nullptr, and the caller hands the text to simdjson, which validates it and words the error,
// so no error text is written here.
//
// Functions marked "reads ahead" may read up to 15 bytes past `end`. Callers pass text that lies
// inside a PaddedBuffer (scanner.cc static_asserts that kJsonPadding covers this).

// ASCII case-insensitive equality against a lower-case literal. Go's encoding/json folds case
// when no exact match exists; kube-scheduler itself always sends the exact PascalCase and
// lowerCamel keys, so the common case stops at the first byte that differs.
inline bool key_is(std::string_view key, std::string_view lower_literal) {
  if (key.size() != lower_literal.size()) {
    return false;
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != lower_literal[i]) {
      return false;
    }
  }
  return true;
}

constexpr bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline const char* skip_json_space(const char* p, const char* end) {
  while (p < end && is_json_space(*p)) {
    ++p;
  }
  return p;
}

// simdjson's raw tokens and positions include the spaces before the next structural byte; the
// texts we echo or parse further must not.
inline std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && is_json_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Bytes a "plain" name may hold: printable ASCII except '"' and '\\'. Such a name needs no
// unescaping on the way in and no escaping on the way out, so it is used and echoed verbatim.
// (Kubernetes node names are DNS subdomains: a-z, 0-9, '-' and '.'.)
constexpr bool is_plain_name_byte(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// Reads a JSON array of plain names, `["a","b",...]`, starting at its '[', appending views of the
// input to `out`. Returns the position just past the closing ']', or nullptr at the first thing it
// does not handle: a name with any other byte (escapes, non-ASCII), an element that is not a
// string, any unexpected byte. On nullptr `out` holds a partial list the caller must discard.
// Reads ahead.
const char* scan_plain_names(const char* p, const char* end, std::vector<std::string_view>& out);

// Position just past the JSON literal `null` at p, or nullptr.
inline const char* skip_null(const char* p, const char* end) {
  return end - p >= 4 && std::memcmp(p, "null", 4) == 0 ? p + 4 : nullptr;
}

// Nesting skip_container follows: one bit per level records the bracket kind. Deeper text is not
// refused, only declined: the generic path then applies simdjson's own depth limit.
inline constexpr int kMaxContainerDepth = 64;

// Position just past the object or array that starts at p, or nullptr if it is not well nested
// (brackets are matched by kind, up to kMaxContainerDepth levels; strings are skipped with their
// escapes). Only delimits the value: its content is checked by whoever parses it.
const char* skip_container(const char* p, const char* end);

}  // namespace epc::http::codec
