#include "extender/http/codec/json_writer.h"

#include <cstdint>
#include <limits>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace epc::http::codec {
namespace {

std::string as_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(JsonWriter, plain_text_is_only_quoted) { EXPECT_EQ(as_json_string("node-a"), "\"node-a\""); }

TEST(JsonWriter, quotes_and_backslashes_are_escaped) {
  EXPECT_EQ(as_json_string(R"(a"b\c)"), R"("a\"b\\c")");
}

TEST(JsonWriter, control_characters_are_escaped) {
  EXPECT_EQ(as_json_string(std::string_view("a\nb\tc\x01", 6)), R"("a\nb\tc\u0001")");
  EXPECT_EQ(as_json_string(std::string_view("\x1f", 1)), R"("\u001f")");
}

TEST(JsonWriter, utf8_passes_through_and_round_trips) {
  const std::string text =
      "n\xC3\xB6"
      "de \"x\"\n\\";
  EXPECT_EQ(boost::json::parse(as_json_string(text)).as_string(), text);
}

TEST(JsonWriter, every_position_of_a_special_byte_is_found) {
  // The scan runs 8 bytes at a time: put each special byte at every offset of a 20-byte text.
  for (const char special : {'"', '\\', '\n', '\x1f', '\0'}) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text(20, 'a');
      text[at] = special;
      const std::string out = as_json_string(text);
      EXPECT_EQ(boost::json::parse(out).as_string(), text) << int(special) << " at " << at;
      EXPECT_GE(out.size(), text.size() + 3) << int(special) << " at " << at;
    }
  }
  // Bytes just around the special ones are not escaped.
  const std::string neighbours = "\x21\x23\x5b\x5d\x20\x7f\x80\xff";
  EXPECT_EQ(as_json_string(neighbours), "\"" + neighbours + "\"");
}

TEST(JsonWriter, appends_without_clearing) {
  std::string out = "[";
  append_json_string(out, "x");
  append_json_int(out, 7);
  EXPECT_EQ(out, "[\"x\"7");
}

TEST(ReplyWriter, grows_past_a_small_hint_and_trims_to_what_was_written) {
  std::string out = "previous content";
  ReplyWriter writer(out, 1);
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    writer.character(i == 0 ? '[' : ',');
    writer.string("node-" + std::to_string(i));
    writer.raw(":");
    writer.integer(i % 12);
    expected +=
        (i == 0 ? "[" : ",") + ("\"node-" + std::to_string(i) + "\":") + std::to_string(i % 12);
  }
  writer.raw("]");
  writer.integer(-42);
  writer.finish();
  EXPECT_EQ(out, expected + "]-42");
}

TEST(ReplyWriter, large_hint_is_trimmed) {
  std::string out;
  ReplyWriter writer(out, 1 << 16);
  writer.string("a\"b");
  writer.finish();
  EXPECT_EQ(out, R"("a\"b")");
}

TEST(JsonWriter, integers_are_plain) {
  std::string out;
  append_json_int(out, 0);
  out.push_back(' ');
  append_json_int(out, 10);
  out.push_back(' ');
  append_json_int(out, -3);
  out.push_back(' ');
  append_json_int(out, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(out, "0 10 -3 -9223372036854775808");
}

}  // namespace
}  // namespace epc::http::codec
