#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace epc::http::codec {

// JSON output into a caller-owned, reused std::string (no temporaries).
//
// Two styles:
// - append_json_string / append_json_int: simple appends, for small or rare replies (errors).
// - ReplyWriter: the hot replies (one entry per node). It sizes the string once from a hint and
//   then writes through a raw pointer with an inline capacity check per piece, instead of
//   thousands of std::string appends.
//
// Strings: '"', '\\' and control characters (U+0000..U+001F) are escaped as JSON requires; other
// bytes (UTF-8) pass through unchanged. Integers are plain (Go decodes Score into int64 and rejects
// "7.0" or "1e1").

void append_json_string(std::string& out, std::string_view text);
void append_json_int(std::string& out, std::int64_t value);

// Writes the JSON literal of `text` at `out`, which has at least max_json_string_size(text) bytes
// of room; returns the position after it.
char* write_json_string(char* out, std::string_view text);
// Worst case: every byte escaped as \u00XX, plus the quotes.
inline std::size_t max_json_string_size(std::string_view text) { return 6 * text.size() + 2; }

inline constexpr std::size_t kMaxIntChars = 20;  // "-9223372036854775808"

// Copies `size` bytes; inlined for the 8..16-byte node names (two overlapping 8-byte moves instead
// of a memcpy call: this runs once per node per reply).
inline char* copy_bytes(char* out, const char* text, std::size_t size) {
  if (size >= 8 && size <= 16) {
    std::uint64_t head, tail;
    std::memcpy(&head, text, 8);
    std::memcpy(&tail, text + size - 8, 8);
    std::memcpy(out, &head, 8);
    std::memcpy(out + size - 8, &tail, 8);
  } else if (size > 0) {
    std::memcpy(out, text, size);
  }
  return out + size;
}

// Writes `"text"` at `out` for a text known to need no escaping (no '"', '\\' or control
// character, e.g. codec::ExtenderArgsView::plain_names); `out` has text.size() + 2 bytes of room.
inline char* write_plain_json_string(char* out, std::string_view text) {
  *out++ = '"';
  out = copy_bytes(out, text.data(), text.size());
  *out++ = '"';
  return out;
}

// Writes a reply into `out` (replacing its content). Construct with a size hint close to the final
// size: the string is resized to it once (std::string cannot expose uninitialised room, so the
// hint is what gets zero-filled; a hint far above the real size costs a memset) and doubled when a
// piece does not fit. finish() trims the string to what was written; the writer must not be used
// afterwards. The string's capacity carries over to the next request.
class ReplyWriter {
 public:
  ReplyWriter(std::string& out, std::size_t size_hint) : out_(out) {
    out_.clear();
    out_.resize(size_hint < kMinSize ? kMinSize : size_hint);
    position_ = out_.data();
    end_ = position_ + out_.size();
  }
  ReplyWriter(const ReplyWriter&) = delete;
  ReplyWriter& operator=(const ReplyWriter&) = delete;

  [[gnu::always_inline]] void raw(std::string_view text) {
    reserve(text.size());
    if (!text.empty()) {
      std::memcpy(position_, text.data(), text.size());
      position_ += text.size();
    }
  }
  void character(char c) {
    reserve(1);
    *position_++ = c;
  }
  void string(std::string_view text) {
    reserve(max_json_string_size(text));
    position_ = write_json_string(position_, text);
  }
  // A string that needs no escaping (see write_plain_json_string).
  void plain_string(std::string_view text) {
    reserve(text.size() + 2);
    position_ = write_plain_json_string(position_, text);
  }
  // Direct access for hot loops that write several pieces per node: claim(n) returns a position
  // with at least n writable bytes; commit(end) then marks [position, end) as written.
  char* claim(std::size_t bytes) {
    reserve(bytes);
    return position_;
  }
  void commit(char* end) { position_ = end; }
  // Takes back the last byte written (e.g. a separator written after every element).
  void unput() {
    if (position_ > out_.data()) {
      --position_;
    }
  }
  void integer(std::int64_t value) {
    reserve(kMaxIntChars);
    if (value >= 0 && value < 10) {
      *position_++ = static_cast<char>('0' + value);  // scores 0..9: the common case
      return;
    }
    position_ = std::to_chars(position_, position_ + kMaxIntChars, value).ptr;
  }
  void finish() { out_.resize(static_cast<std::size_t>(position_ - out_.data())); }

 private:
  static constexpr std::size_t kMinSize = 256;

  // Inlined into every piece written (GCC otherwise keeps it out of line in large loops); the rare
  // growth stays out of line.
  [[gnu::always_inline]] void reserve(std::size_t bytes) {
    if (static_cast<std::size_t>(end_ - position_) < bytes) [[unlikely]] {
      grow(bytes);
    }
  }
  [[gnu::noinline]] void grow(std::size_t bytes) {
    const std::size_t used = static_cast<std::size_t>(position_ - out_.data());
    const std::size_t wanted = used + bytes;
    out_.resize(wanted > 2 * out_.size() ? wanted : 2 * out_.size());
    position_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* position_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace epc::http::codec
