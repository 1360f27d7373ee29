#include "extender/http/codec/scanner.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/http/codec/padded_buffer.h"

namespace epc::http::codec {
namespace {

using ::testing::ElementsAre;

// The scanners read ahead, so every input lives in a PaddedBuffer, as the request body does.
struct Padded {
  explicit Padded(std::string_view text) { buffer.assign(text); }
  const char* begin() const { return buffer.data(); }
  const char* end() const { return buffer.data() + buffer.size(); }
  PaddedBuffer buffer;
};

// ------------------------------------------------------------------------------------------------
// key_is

TEST(KeyIs, folds_ascii_case_of_the_key_only) {
  struct Row {
    const char* name;
    std::string_view key;
    std::string_view literal;
    bool want;
  };
  const Row rows[] = {
      {"exact", "nodenames", "nodenames", true},
      {"pascal_case", "NodeNames", "nodenames", true},
      {"upper_case", "NODENAMES", "nodenames", true},
      {"prefix", "NodeName", "nodenames", false},
      {"longer", "NodeNamesX", "nodenames", false},
      {"other_key", "Nodes", "nodenames", false},
      // '@' is 'A' - 1 and '[' is 'Z' + 1: neither folds onto a letter.
      {"below_A", "@od", "`od", false},
      {"above_Z", "[od", "{od", false},
      {"empty", "", "", true},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(key_is(row.key, row.literal), row.want) << row.name;
  }
}

// ------------------------------------------------------------------------------------------------
// Spaces

TEST(JsonSpace, skips_and_trims_only_json_whitespace) {
  const Padded text(" \t\r\n x \n");
  EXPECT_EQ(skip_json_space(text.begin(), text.end()), text.begin() + 5);
  EXPECT_EQ(trim_trailing_space(" \t x \n\t\r "), " \t x");
  EXPECT_EQ(trim_trailing_space("x\v"), "x\v");  // \v is no JSON space
  EXPECT_EQ(trim_trailing_space(" \n"), "");
}

// ------------------------------------------------------------------------------------------------
// scan_plain_names

TEST(ScanPlainNames, reads_or_declines) {
  struct Row {
    const char* name;
    std::string_view text;
    // nullopt: declined (nullptr). Otherwise the names and how many bytes were consumed.
    std::optional<std::vector<std::string>> want;
    std::size_t consumed = 0;
  };
  using Names = std::vector<std::string>;
  const Row rows[] = {
      {"empty", "[]", Names{}, 2},
      {"empty_spaced", "[ \n ]", Names{}, 5},
      {"one", R"(["a"])", Names{"a"}, 5},
      {"compact", R"(["node-a","node-b"])", Names{"node-a", "node-b"}, 19},
      {"spaced", "[ \"a\" ,\n\t\"b\" ]", Names{"a", "b"}, 14},
      {"empty_name", R"([""])", Names{""}, 4},
      // Only the array is delimited: what follows is the caller's business.
      {"stops_after_bracket", R"(["a"],"x")", Names{"a"}, 5},
      {"not_an_array", R"("a")", std::nullopt},
      {"escape", R"(["a\u0062"])", std::nullopt},
      {"escaped_quote", R"(["a\"b"])", std::nullopt},
      {"non_ascii", "[\"n\xc3\xa9\"]", std::nullopt},
      {"control_byte", "[\"a\tb\"]", std::nullopt},
      {"number_element", R"(["a",1])", std::nullopt},
      {"null_element", R"(["a",null])", std::nullopt},
      {"trailing_comma", R"(["a",])", std::nullopt},
      {"missing_comma", R"(["a" "b"])", std::nullopt},
      {"unterminated_name", R"(["abc)", std::nullopt},
      {"unterminated_array", R"(["a")", std::nullopt},
      {"empty_text", "", std::nullopt},
  };
  for (const Row& row : rows) {
    const Padded text(row.text);
    std::vector<std::string_view> out;
    const char* const stop = scan_plain_names(text.begin(), text.end(), out);
    if (!row.want) {
      EXPECT_EQ(stop, nullptr) << row.name;
      continue;
    }
    ASSERT_NE(stop, nullptr) << row.name;
    EXPECT_EQ(static_cast<std::size_t>(stop - text.begin()), row.consumed) << row.name;
    EXPECT_EQ(std::vector<std::string>(out.begin(), out.end()), *row.want) << row.name;
  }
}

TEST(ScanPlainNames, names_of_every_length_around_the_16_byte_block) {
  std::vector<std::string> want;
  std::string text = "[";
  for (std::size_t length = 0; length <= 50; ++length) {
    std::string name(length, 'x');
    for (std::size_t i = 0; i < length; ++i) {
      name[i] = static_cast<char>('a' + (i % 26));
    }
    text += (length > 0 ? ",\"" : "\"") + name + "\"";
    want.push_back(std::move(name));
  }
  text += "]";
  const Padded padded(text);
  std::vector<std::string_view> out;
  ASSERT_EQ(scan_plain_names(padded.begin(), padded.end(), out), padded.end());
  EXPECT_EQ(std::vector<std::string>(out.begin(), out.end()), want);
}

TEST(ScanPlainNames, bytes_past_the_end_never_finish_a_name) {
  // The closing quote and bracket lie in the buffer but past `end`: read ahead, never trusted.
  for (std::size_t cut = 1; cut < 7; ++cut) {
    const Padded text(R"(["abc"])");
    std::vector<std::string_view> out;
    EXPECT_EQ(scan_plain_names(text.begin(), text.end() - cut, out), nullptr) << cut;
  }
}

TEST(ScanPlainNames, names_are_views_of_the_input) {
  const Padded text(R"(["n1","n2"])");
  std::vector<std::string_view> out;
  ASSERT_NE(scan_plain_names(text.begin(), text.end(), out), nullptr);
  ASSERT_THAT(out, ElementsAre("n1", "n2"));
  EXPECT_EQ(out[0].data(), text.begin() + 2);
  EXPECT_EQ(out[1].data(), text.begin() + 7);
}

// ------------------------------------------------------------------------------------------------
// skip_null, skip_container

TEST(SkipNull, matches_the_literal_only) {
  const Padded null_text("null,");
  EXPECT_EQ(skip_null(null_text.begin(), null_text.end()), null_text.begin() + 4);
  const Padded short_text("nul");
  EXPECT_EQ(skip_null(short_text.begin(), short_text.end()), nullptr);
  const Padded other("nulL");
  EXPECT_EQ(skip_null(other.begin(), other.end()), nullptr);
}

TEST(SkipContainer, delimits_well_nested_values) {
  struct Row {
    const char* name;
    std::string_view text;
    std::ptrdiff_t consumed;  // -1: declined (nullptr)
  };
  const Row rows[] = {
      {"empty_object", "{}", 2},
      {"empty_array", "[] ,", 2},
      {"nested", R"({"a":[1,{"b":null}]},"x")", 20},
      {"brackets_in_strings", R"({"a":"}]{["})", 12},
      {"escaped_quote", R"({"a":"\"}"})", 11},
      {"escaped_backslash", R"({"a":"\\"})", 10},
      {"kind_mismatch_object", "{]", -1},
      {"kind_mismatch_array", "[}", -1},
      {"inner_mismatch", R"({"a":[}])", -1},
      {"unclosed", R"({"a":1)", -1},
      {"unterminated_string", R"({"a)", -1},
      {"string", R"("a")", -1},
      {"null", "null", -1},
      {"close_first", "}", -1},
      {"empty_text", "", -1},
  };
  for (const Row& row : rows) {
    const Padded text(row.text);
    const char* const stop = skip_container(text.begin(), text.end());
    if (row.consumed < 0) {
      EXPECT_EQ(stop, nullptr) << row.name;
    } else {
      EXPECT_EQ(stop, text.begin() + row.consumed) << row.name;
    }
  }
}

TEST(SkipContainer, declines_beyond_the_depth_it_tracks) {
  const auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  const Padded deepest(nested(kMaxContainerDepth));
  EXPECT_EQ(skip_container(deepest.begin(), deepest.end()), deepest.end());
  const Padded too_deep(nested(kMaxContainerDepth + 1));
  EXPECT_EQ(skip_container(too_deep.begin(), too_deep.end()), nullptr);
}

}  // namespace
}  // namespace epc::http::codec
