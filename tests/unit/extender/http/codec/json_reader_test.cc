#include "extender/http/codec/json_reader.h"

#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace epc::http::codec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class JsonReaderTest : public ::testing::Test {
 protected:
  // `text` as a value; valid until the next call. It is wrapped in an object because simdjson
  // gives no value for a scalar document, and the decoders only ever see values inside one.
  ondemand::value& root(std::string_view text) {
    json_ = simdjson::padded_string(R"({"v":)" + std::string(text) + "}");
    EXPECT_EQ(parser_.iterate(json_).get(doc_), simdjson::SUCCESS);
    EXPECT_EQ(doc_.get_object().get(object_), simdjson::SUCCESS);
    EXPECT_EQ(object_.find_field("v").get(value_), simdjson::SUCCESS);
    return value_;
  }

  // Keys of the object `text` as for_each_field visits them.
  std::vector<std::string> keys(std::string_view text, bool expect_ok = true) {
    std::vector<std::string> seen;
    const bool ok =
        reader_.for_each_field(root(text), "Thing", [&](std::string_view key, ondemand::value&) {
          seen.emplace_back(key);
          return true;
        });
    EXPECT_EQ(ok, expect_ok) << text;
    return seen;
  }

  simdjson::padded_string json_;
  ondemand::parser parser_;
  ondemand::document doc_;
  ondemand::object object_;
  ondemand::value value_;
  JsonReader reader_;
};

TEST_F(JsonReaderTest, for_each_field_visits_unescaped_keys_in_order) {
  EXPECT_THAT(keys(R"({"b":1,"a":{"x":[]},"c\u0064":null})"), ElementsAre("b", "a", "cd"));
  EXPECT_THAT(reader_.error(), IsEmpty());
}

TEST_F(JsonReaderTest, for_each_field_treats_null_as_no_fields) {
  EXPECT_THAT(keys("null"), IsEmpty());
  EXPECT_THAT(keys("{}"), IsEmpty());
  EXPECT_THAT(reader_.error(), IsEmpty());
}

TEST_F(JsonReaderTest, for_each_field_names_the_field_of_the_wrong_type) {
  EXPECT_THAT(keys("[1]", /*expect_ok=*/false), IsEmpty());
  EXPECT_EQ(reader_.error(), "Thing must be an object, got an array");
  EXPECT_THAT(keys(R"("x")", /*expect_ok=*/false), IsEmpty());
  EXPECT_EQ(reader_.error(), "Thing must be an object, got a string");
}

TEST_F(JsonReaderTest, for_each_field_stops_at_the_first_false) {
  std::vector<std::string> seen;
  const bool ok = reader_.for_each_field(root(R"({"a":1,"stop":2,"c":3})"), "Thing",
                                         [&](std::string_view key, ondemand::value&) {
                                           seen.emplace_back(key);
                                           return key != "stop";
                                         });
  EXPECT_FALSE(ok);
  EXPECT_THAT(seen, ElementsAre("a", "stop"));
}

TEST_F(JsonReaderTest, malformed_text_inside_an_object_is_a_json_error) {
  keys(R"({"a":1,,"b":2})", /*expect_ok=*/false);
  EXPECT_THAT(reader_.error(), HasSubstr("malformed JSON request body: "));
}

TEST_F(JsonReaderTest, read_string_takes_null_as_empty_and_refuses_other_types) {
  std::vector<std::string> values;
  const bool ok = reader_.for_each_field(root(R"({"s":"v","n":null})"), "Thing",
                                         [&](std::string_view, ondemand::value& field) {
                                           std::string_view text = "unset";
                                           if (!reader_.read_string(field, "Thing.x", text)) {
                                             return false;
                                           }
                                           values.emplace_back(text);
                                           return true;
                                         });
  EXPECT_TRUE(ok);
  EXPECT_THAT(values, ElementsAre("v", ""));

  std::string_view text;
  EXPECT_FALSE(reader_.read_string(root("12"), "Thing.x", text));
  EXPECT_EQ(reader_.error(), "Thing.x must be a string, got a number");
}

TEST_F(JsonReaderTest, for_each_element_visits_in_order_and_open_array_reports_null) {
  ondemand::array array;
  bool present = true;
  ASSERT_TRUE(reader_.open_array(root("null"), "List", array, present));
  EXPECT_FALSE(present);

  ASSERT_TRUE(reader_.open_array(root(R"(["x",true,3])"), "List", array, present));
  ASSERT_TRUE(present);
  std::vector<std::string> types;
  EXPECT_TRUE(reader_.for_each_element(array, [&](ondemand::value& element) {
    ondemand::json_type type{};
    if (!reader_.type_of(element, type)) {
      return false;
    }
    types.emplace_back(json_type_name(type));
    return true;
  }));
  EXPECT_THAT(types, ElementsAre("a string", "a boolean", "a number"));

  EXPECT_FALSE(reader_.open_array(root("{}"), "List", array, present));
  EXPECT_EQ(reader_.error(), "List must be an array, got an object");
}

}  // namespace
}  // namespace epc::http::codec
