#include "common/quantity.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace epc::common {
namespace {

// ---------------------------------------------------------------------------------------------
// Limits.

// Digits that carry value after leading and trailing zeros are dropped. 50 covers every exactly
// representable int64 amount written with a binary suffix (0.5^k needs k fractional digits) while
// keeping the arithmetic in a fixed 256-bit number: 10^50 · 2^60 < 2^227.
constexpr std::size_t kMaxSignificantDigits = 50;
// Kubernetes parses the exponent as an int32; anything larger is rejected there too.
constexpr std::int64_t kMaxExponent = 2147483647;
// Error messages quote at most this much of the input: a multi-megabyte "quantity" must not turn
// into a multi-megabyte error reply.
constexpr std::size_t kMaxQuotedChars = 64;

// ---------------------------------------------------------------------------------------------
// A tiny unsigned 256-bit integer: just the operations exact quantity arithmetic needs.

class Uint256 {
 public:
  bool is_zero() const {
    for (std::uint32_t limb : limbs_) {
      if (limb != 0) {
        return false;
      }
    }
    return true;
  }

  // *this = *this * factor + addend. Returns false if the result needs more than 256 bits.
  bool mul_add(std::uint32_t factor, std::uint32_t addend) {
    std::uint64_t carry = addend;
    for (std::uint32_t& limb : limbs_) {
      const std::uint64_t product = static_cast<std::uint64_t>(limb) * factor + carry;
      limb = static_cast<std::uint32_t>(product);
      carry = product >> 32;
    }
    return carry == 0;
  }

  // *this /= divisor; returns the remainder.
  std::uint32_t div(std::uint32_t divisor) {
    std::uint64_t remainder = 0;
    for (std::size_t i = limbs_.size(); i-- > 0;) {
      const std::uint64_t current = (remainder << 32) | limbs_[i];
      limbs_[i] = static_cast<std::uint32_t>(current / divisor);
      remainder = current % divisor;
    }
    return static_cast<std::uint32_t>(remainder);
  }

  // The value, if it fits in [0, INT64_MAX].
  bool fits_int64() const {
    for (std::size_t i = 2; i < limbs_.size(); ++i) {
      if (limbs_[i] != 0) {
        return false;
      }
    }
    return (limbs_[1] & 0x80000000u) == 0;
  }
  std::int64_t to_int64() const {
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(limbs_[1]) << 32) | limbs_[0]);
  }

 private:
  std::array<std::uint32_t, 8> limbs_{};  // little-endian 32-bit limbs
};

// ---------------------------------------------------------------------------------------------
// Error messages.

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const std::size_t shown = text.size() < kMaxQuotedChars ? text.size() : kMaxQuotedChars;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < text.size()) {
    out += "...";
  }
  out += '"';
  return out;
}

Error invalid(std::string_view text, std::string_view reason) {
  std::string message = "invalid quantity ";
  message += quote(text);
  message += ": ";
  message += reason;
  return Error{std::move(message)};
}

// ---------------------------------------------------------------------------------------------
// Syntax.

struct Suffix {
  std::string_view text;
  int binary_exponent;   // value × 2^binary_exponent
  int decimal_exponent;  // value × 10^decimal_exponent
};

// Matched against the whole rest of the string, so "E" (exa) and "Ei" (exbi) do not collide.
constexpr std::array<Suffix, 15> kSuffixes = {{
    {"Ki", 10, 0},
    {"Mi", 20, 0},
    {"Gi", 30, 0},
    {"Ti", 40, 0},
    {"Pi", 50, 0},
    {"Ei", 60, 0},
    {"n", 0, -9},
    {"u", 0, -6},
    {"m", 0, -3},
    {"k", 0, 3},
    {"M", 0, 6},
    {"G", 0, 9},
    {"T", 0, 12},
    {"P", 0, 15},
    {"E", 0, 18},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Syntax {
  bool negative = false;
  std::string_view integer_digits;
  std::string_view fraction_digits;
  int binary_exponent = 0;
  std::int64_t decimal_exponent = 0;
};

// Parses an "e<signed int>" exponent (the text after the 'e'/'E').
Result<std::int64_t> parse_exponent(std::string_view quantity, std::string_view text) {
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    negative = text[pos] == '-';
    ++pos;
  }
  const std::size_t digits_start = pos;
  std::int64_t magnitude = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (magnitude <= kMaxExponent) {  // keep accumulating only while it can still be valid
      magnitude = magnitude * 10 + (text[pos] - '0');
    }
    ++pos;
  }
  if (pos == digits_start) {
    return invalid(quantity, "exponent has no digits");
  }
  if (pos != text.size()) {
    return invalid(quantity, "trailing characters after the exponent");
  }
  if (magnitude > kMaxExponent) {
    return invalid(quantity, "exponent out of range");
  }
  return negative ? -magnitude : magnitude;
}

Result<Syntax> parse_syntax(std::string_view text) {
  if (text.empty()) {
    return invalid(text, "empty string");
  }
  Syntax syntax;
  std::size_t pos = 0;
  if (text[pos] == '+' || text[pos] == '-') {
    syntax.negative = text[pos] == '-';
    ++pos;
  }
  const std::size_t integer_start = pos;
  while (pos < text.size() && is_digit(text[pos])) {
    ++pos;
  }
  syntax.integer_digits = text.substr(integer_start, pos - integer_start);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t fraction_start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      ++pos;
    }
    syntax.fraction_digits = text.substr(fraction_start, pos - fraction_start);
  }
  if (syntax.integer_digits.empty() && syntax.fraction_digits.empty()) {
    return invalid(text, "expected a number");
  }

  const std::string_view suffix = text.substr(pos);
  if (suffix.empty()) {
    return syntax;
  }
  for (const Suffix& known : kSuffixes) {
    if (suffix == known.text) {
      syntax.binary_exponent = known.binary_exponent;
      syntax.decimal_exponent = known.decimal_exponent;
      return syntax;
    }
  }
  // "1e3", "1E-3", "1e+3": a decimal exponent. "1E" alone is exa (matched above).
  if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1 &&
      (is_digit(suffix[1]) || suffix[1] == '+' || suffix[1] == '-')) {
    Result<std::int64_t> exponent = parse_exponent(text, suffix.substr(1));
    if (!exponent.ok()) {
      return exponent.error();
    }
    syntax.decimal_exponent = *exponent;
    return syntax;
  }
  // Name the suffix the user probably meant when something follows it ("12Mi ", "1Ki2").
  const Suffix* prefix = nullptr;
  for (const Suffix& known : kSuffixes) {
    if (suffix.starts_with(known.text) &&
        (prefix == nullptr || known.text.size() > prefix->text.size())) {
      prefix = &known;
    }
  }
  if (prefix != nullptr) {
    std::string reason = "trailing characters after suffix \"";
    reason += prefix->text;
    reason += '"';
    return invalid(text, reason);
  }
  std::string reason = "unknown suffix ";
  reason += quote(suffix);
  reason += " (want one of Ki Mi Gi Ti Pi Ei n u m k M G T P E, or e<exponent>)";
  return invalid(text, reason);
}

// ---------------------------------------------------------------------------------------------
// Exact evaluation.

enum class Rounding { kWholeOnly, kAwayFromZero };

// The value of `syntax` × 10^extra_decimal_exponent as an int64, exactly (kWholeOnly) or rounded
// away from zero (kAwayFromZero, what Kubernetes' MilliValue()/ScaledValue() does).
Result<std::int64_t> evaluate(std::string_view text, const Syntax& syntax,
                              int extra_decimal_exponent, Rounding rounding,
                              std::string_view unit) {
  // The mantissa digits, integer then fraction, as one logical sequence.
  const std::size_t integer_count = syntax.integer_digits.size();
  const std::size_t digit_count = integer_count + syntax.fraction_digits.size();
  auto digit_at = [&](std::size_t i) {
    return i < integer_count ? syntax.integer_digits[i] : syntax.fraction_digits[i - integer_count];
  };
  std::size_t first = 0;
  while (first < digit_count && digit_at(first) == '0') {
    ++first;
  }
  if (first == digit_count) {
    return std::int64_t{0};  // "0", "-0.000", "0Ei", "0e999"
  }
  std::size_t last = digit_count - 1;
  while (digit_at(last) == '0') {
    --last;
  }
  if (last - first + 1 > kMaxSignificantDigits) {
    return invalid(text, "too many significant digits (at most 50)");
  }

  // value = significant · 10^decimal · 2^binary. The string's length bounds every term, so int64
  // cannot overflow here.
  const auto trailing_zeros = static_cast<std::int64_t>(digit_count - 1 - last);
  const std::int64_t decimal = syntax.decimal_exponent + extra_decimal_exponent -
                               static_cast<std::int64_t>(syntax.fraction_digits.size()) +
                               trailing_zeros;

  Uint256 value;
  for (std::size_t i = first; i <= last; ++i) {
    value.mul_add(10, static_cast<std::uint32_t>(digit_at(i) - '0'));  // < 10^50: cannot overflow
  }
  for (int i = 0; i < syntax.binary_exponent; ++i) {
    value.mul_add(2, 0);  // < 10^50 · 2^60 < 2^227: cannot overflow
  }

  // Built only on failure: the decoder parses a pod's quantities on every request and must not
  // allocate for valid ones.
  const auto out_of_range = [&] {
    std::string reason = "out of range: more than 9223372036854775807 ";
    reason += unit;
    return invalid(text, reason);
  };
  if (decimal >= 0) {
    // Each step multiplies by 10 only while the value is still small, so this ends within ~19
    // iterations however large the exponent.
    for (std::int64_t i = 0; i < decimal; ++i) {
      if (!value.fits_int64()) {
        return out_of_range();
      }
      value.mul_add(10, 0);
    }
  } else {
    bool inexact = false;
    // Repeated floor division by 10 equals one floor division by 10^k. The value reaches zero
    // within ~70 steps, which bounds the loop for absurd negative exponents.
    for (std::int64_t i = 0; i < -decimal && !value.is_zero(); ++i) {
      if (value.div(10) != 0) {
        inexact = true;
      }
    }
    if (inexact) {
      if (rounding == Rounding::kWholeOnly) {
        std::string reason = "not a whole number of ";
        reason += unit;
        return invalid(text, reason);
      }
      value.mul_add(1, 1);
    }
  }
  if (!value.fits_int64()) {
    return out_of_range();
  }
  const std::int64_t magnitude = value.to_int64();
  return syntax.negative ? -magnitude : magnitude;
}

}  // namespace

Result<std::int64_t> parse_quantity_units(std::string_view text) {
  Result<Syntax> syntax = parse_syntax(text);
  if (!syntax.ok()) {
    return syntax.error();
  }
  return evaluate(text, *syntax, 0, Rounding::kWholeOnly, "units");
}

Result<std::int64_t> parse_quantity_milli(std::string_view text) {
  Result<Syntax> syntax = parse_syntax(text);
  if (!syntax.ok()) {
    return syntax.error();
  }
  return evaluate(text, *syntax, 3, Rounding::kAwayFromZero, "thousandths of a unit");
}

}  // namespace epc::common
