#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace epc::http::codec {

// Bytes kept readable (not part of the content) after the end of every PaddedBuffer: simdjson reads
// up to SIMDJSON_PADDING bytes past the input in its SIMD loops. padded_buffer.cc static_asserts
// that this covers SIMDJSON_PADDING.
inline constexpr std::size_t kJsonPadding = 64;

// A growable byte buffer that always keeps kJsonPadding spare bytes after its content, so a request
// body can be parsed in place without copying it into a padded string. One per connection: clear()
// keeps the allocation, so keep-alive requests reuse it (house rule 7).
//
// Thread-safety: none (owned by one connection).
class PaddedBuffer {
 public:
  // Allocates the padding at once: data() is never null, so an empty body is still a valid
  // (empty, padded) parser input.
  PaddedBuffer() : data_(std::make_unique<char[]>(kJsonPadding)) {}
  PaddedBuffer(const PaddedBuffer&) = delete;
  PaddedBuffer& operator=(const PaddedBuffer&) = delete;
  PaddedBuffer(PaddedBuffer&&) noexcept = default;
  PaddedBuffer& operator=(PaddedBuffer&&) noexcept = default;

  // Ensures room for `bytes` of content (plus padding) without further allocation.
  void reserve(std::size_t bytes);
  void append(const char* data, std::size_t size);
  void append(std::string_view text) { append(text.data(), text.size()); }
  void assign(std::string_view text) {
    clear();
    append(text);
  }
  // Forgets the content, keeps the allocation.
  void clear() { size_ = 0; }

  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Content capacity; the allocation is capacity() + kJsonPadding bytes.
  std::size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace epc::http::codec
