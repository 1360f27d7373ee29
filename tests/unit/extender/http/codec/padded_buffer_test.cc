#include "extender/http/codec/padded_buffer.h"

#include <string>

#include <gtest/gtest.h>

namespace epc::http::codec {
namespace {

TEST(PaddedBuffer, appends_and_views_content) {
  PaddedBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  buffer.append("abc");
  buffer.append(std::string(1000, 'x'));
  EXPECT_EQ(buffer.size(), 1003u);
  EXPECT_EQ(buffer.view().substr(0, 4), "abcx");
  EXPECT_GE(buffer.capacity(), buffer.size());
}

TEST(PaddedBuffer, clear_keeps_the_allocation) {
  PaddedBuffer buffer;
  buffer.append(std::string(4096, 'y'));
  const char* data = buffer.data();
  const std::size_t capacity = buffer.capacity();
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
  buffer.append(std::string(4000, 'z'));
  EXPECT_EQ(buffer.data(), data);
  EXPECT_EQ(buffer.capacity(), capacity);
}

TEST(PaddedBuffer, reserve_then_append_does_not_move_data) {
  PaddedBuffer buffer;
  buffer.reserve(10000);
  const char* data = buffer.data();
  for (int i = 0; i < 100; ++i) {
    buffer.append(std::string(100, 'a'));
  }
  EXPECT_EQ(buffer.data(), data);
  EXPECT_EQ(buffer.size(), 10000u);
}

TEST(PaddedBuffer, assign_replaces_content) {
  PaddedBuffer buffer;
  buffer.assign("first");
  buffer.assign("second");
  EXPECT_EQ(buffer.view(), "second");
}

}  // namespace
}  // namespace epc::http::codec

namespace epc::http::codec {
namespace {

// An empty body must still be a valid, padded parser input (the fuzzer found a null data() here).
TEST(PaddedBuffer, empty_buffer_has_readable_padding) {
  PaddedBuffer buffer;
  ASSERT_NE(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.data()[kJsonPadding - 1], '\0');
}

}  // namespace
}  // namespace epc::http::codec
