#include "extender/http/codec/json_reader.h"

namespace epc::http::codec {

std::string_view json_type_name(ondemand::json_type type) {
  switch (type) {
    case ondemand::json_type::array:
      return "an array";
    case ondemand::json_type::object:
      return "an object";
    case ondemand::json_type::number:
      return "a number";
    case ondemand::json_type::string:
      return "a string";
    case ondemand::json_type::boolean:
      return "a boolean";
    case ondemand::json_type::null:
      return "null";
  }
  return "unknown";
}

bool JsonReader::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

bool JsonReader::fail_json(simdjson::error_code code) {
  return fail(std::string("malformed JSON request body: ") + simdjson::error_message(code));
}

bool JsonReader::fail_type(std::string_view what, std::string_view expected,
                           ondemand::json_type got) {
  std::string message(what);
  message.append(" must be ").append(expected).append(", got ").append(json_type_name(got));
  return fail(std::move(message));
}

}  // namespace epc::http::codec
