#include "extender/http/codec/scanner.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstdint>
#include <cstring>

#include "extender/http/codec/padded_buffer.h"

namespace epc::http::codec {

namespace {

// first_special_byte loads 16 bytes at any position before `end`.
static_assert(kJsonPadding >= 16, "scan_plain_names reads up to 15 bytes past the content");

// Offset of the first byte of the 16 at `p` that is not a plain name byte (16 if none). Reads
// 16 bytes: the caller guarantees they are readable.
#if defined(__SSE2__)
unsigned first_special_byte(const char* p) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compare: below 0x20 catches the control characters and, as negative numbers, every
  // byte >= 0x80.
  const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
                                       _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)));
  const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
  return mask == 0 ? 16 : static_cast<unsigned>(std::countr_zero(mask));
}
#else
// SWAR twin (Bit Twiddling Hacks' "has zero byte" / "has byte less than n"): only the lowest
// flagged byte is exact, which is all we need.
unsigned first_special_in_word(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * static_cast<unsigned char>('"'));
  const std::uint64_t backslash = word ^ (kOnes * static_cast<unsigned char>('\\'));
  const std::uint64_t found = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                               ((word - kOnes * 0x20) & ~word) | word) &
                              kHighBits;
  return found == 0 ? 8 : static_cast<unsigned>(std::countr_zero(found)) / 8;
}
static_assert(std::endian::native == std::endian::little, "first_special_in_word");

unsigned first_special_byte(const char* p) {
  std::uint64_t low, high;
  std::memcpy(&low, p, 8);
  std::memcpy(&high, p + 8, 8);
  const unsigned offset = first_special_in_word(low);
  return offset < 8 ? offset : 8 + first_special_in_word(high);
}
#endif

}  // namespace

// ------------------------------------------------------------------------------------------------
// Names (the hot part: 5,000 of them per request)

const char* scan_plain_names(const char* p, const char* end, std::vector<std::string_view>& out) {
  if (p == end || *p != '[') {
    return nullptr;
  }
  p = skip_json_space(p + 1, end);
  if (p < end && *p == ']') {
    return p + 1;
  }
  for (;;) {
    if (p >= end || *p != '"') {
      return nullptr;
    }
    const char* const name = ++p;
    for (;;) {
      if (p >= end) {
        return nullptr;
      }
      const unsigned offset = first_special_byte(p);
      p += offset;
      if (offset < 16) {
        break;
      }
    }
    if (p >= end || *p != '"') {
      return nullptr;  // an escape sequence, a control or non-ASCII byte
    }
    out.emplace_back(name, static_cast<std::size_t>(p - name));
    ++p;
    if (p < end && *p == ',') {  // kube-scheduler's compact form: no spaces
      ++p;
      continue;
    }
    p = skip_json_space(p, end);
    if (p < end && *p == ',') {
      p = skip_json_space(p + 1, end);
      continue;
    }
    return p < end && *p == ']' ? p + 1 : nullptr;
  }
}

// ------------------------------------------------------------------------------------------------
// Containers

const char* skip_container(const char* p, const char* end) {
  static_assert(kMaxContainerDepth <= 64, "one bit per level in `kinds`");
  std::uint64_t kinds = 0;  // bit d set: the container at depth d is an object
  int depth = 0;
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '"') {
      for (++p; p < end && *p != '"'; ++p) {
        if (*p == '\\') {
          ++p;
        }
      }
      if (p >= end) {
        return nullptr;
      }
    } else if (c == '{' || c == '[') {
      if (depth == kMaxContainerDepth) {
        return nullptr;
      }
      kinds = (kinds & ~(std::uint64_t{1} << depth)) | (std::uint64_t{c == '{'} << depth);
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) {
        return nullptr;
      }
      --depth;
      if (((kinds >> depth) & 1) != std::uint64_t{c == '}'}) {
        return nullptr;
      }
      if (depth == 0) {
        return p + 1;
      }
    } else if (depth == 0) {
      return nullptr;  // not a container
    }
  }
  return nullptr;
}

}  // namespace epc::http::codec
