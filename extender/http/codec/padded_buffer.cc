#include "extender/http/codec/padded_buffer.h"

#include <algorithm>
#include <cstring>

#include <simdjson.h>

namespace epc::http::codec {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING,
              "PaddedBuffer must cover simdjson's padding");

void PaddedBuffer::reserve(std::size_t bytes) {
  if (bytes <= capacity_) {
    return;
  }
  // Grow geometrically so a body that arrives in many small pieces costs O(n) copies.
  const std::size_t new_capacity = std::max(bytes, capacity_ * 2);
  auto fresh = std::make_unique<char[]>(new_capacity + kJsonPadding);
  if (size_ > 0) {
    std::memcpy(fresh.get(), data_.get(), size_);
  }
  data_ = std::move(fresh);
  capacity_ = new_capacity;
}

void PaddedBuffer::append(const char* data, std::size_t size) {
  if (size == 0) {
    return;
  }
  reserve(size_ + size);
  std::memcpy(data_.get() + size_, data, size);
  size_ += size;
}

}  // namespace epc::http::codec
