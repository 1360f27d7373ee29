#include "extender/http/codec/json_writer.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace epc::http::codec {

namespace {

// Bytes that JSON strings must escape: control characters, '"' and '\\'.
constexpr std::array<bool, 256> make_escape_table() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) {
    table[static_cast<std::size_t>(c)] = true;
  }
  table['"'] = true;
  table['\\'] = true;
  return table;
}
constexpr std::array<bool, 256> kNeedsEscape = make_escape_table();

bool needs_escape(char c) { return kNeedsEscape[static_cast<unsigned char>(c)]; }

// True if any of the 8 bytes of `word` needs escaping (SWAR: "has a byte below n" and "has a zero
// byte" tests from Bit Twiddling Hacks; exact for "any byte", which is all we ask).
bool word_needs_escape(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * static_cast<unsigned char>('"'));
  const std::uint64_t backslash = word ^ (kOnes * static_cast<unsigned char>('\\'));
  const std::uint64_t control = (word - kOnes * 0x20) & ~word;
  const std::uint64_t has_quote = (quote - kOnes) & ~quote;
  const std::uint64_t has_backslash = (backslash - kOnes) & ~backslash;
  return ((control | has_quote | has_backslash) & kHighBits) != 0;
}

// Length of the prefix of `text` that needs no escaping. Names are typically 8..64 bytes: test
// them in 8-byte words, the last word overlapping the previous one, before falling back to bytes.
std::size_t clean_prefix(std::string_view text) {
  constexpr std::size_t kWord = sizeof(std::uint64_t);
  const auto word_at = [&text](std::size_t offset) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + offset, kWord);
    return word;
  };
  std::size_t clean = 0;
  if (text.size() >= kWord) {
    while (clean + kWord <= text.size() && !word_needs_escape(word_at(clean))) {
      clean += kWord;
    }
    if (clean + kWord > text.size() && !word_needs_escape(word_at(text.size() - kWord))) {
      return text.size();
    }
  }
  while (clean < text.size() && !needs_escape(text[clean])) {
    ++clean;
  }
  return clean;
}

char* write_escaped(char* out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '\\';
  switch (c) {
    case '"':
      *out++ = '"';
      break;
    case '\\':
      *out++ = '\\';
      break;
    case '\n':
      *out++ = 'n';
      break;
    case '\r':
      *out++ = 'r';
      break;
    case '\t':
      *out++ = 't';
      break;
    case '\b':
      *out++ = 'b';
      break;
    case '\f':
      *out++ = 'f';
      break;
    default: {
      const auto byte = static_cast<unsigned char>(c);
      *out++ = 'u';
      *out++ = '0';
      *out++ = '0';
      *out++ = kHex[byte >> 4];
      *out++ = kHex[byte & 0xF];
      break;
    }
  }
  return out;
}

}  // namespace

char* write_json_string(char* out, std::string_view text) {
  const std::size_t clean = clean_prefix(text);
  *out++ = '"';
  if (clean > 0) {
    std::memcpy(out, text.data(), clean);
    out += clean;
  }
  for (std::size_t i = clean; i < text.size(); ++i) {
    if (needs_escape(text[i])) {
      out = write_escaped(out, text[i]);
    } else {
      *out++ = text[i];
    }
  }
  *out++ = '"';
  return out;
}

void append_json_string(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  out.resize(start + max_json_string_size(text));
  char* const end = write_json_string(out.data() + start, text);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

void append_json_int(std::string& out, std::int64_t value) {
  std::array<char, 24> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), static_cast<std::size_t>(result.ptr - digits.data()));
}

}  // namespace epc::http::codec
