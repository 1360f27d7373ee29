#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <simdjson.h>

namespace epc::http::codec {

namespace ondemand = simdjson::ondemand;

// "an object", "a string", ... for error messages.
std::string_view json_type_name(ondemand::json_type type);

// simdjson On-Demand, read the way ExtenderArgs wants it (spec/extender-api.md §2): null and absent
// are the same, a value of the wrong type is an error naming the field, and the first failure
// becomes the one message the client sees.
//
// Every step returns false on failure and leaves the message in error(); decoders return false at
// once, because an On-Demand iterator cannot go on after an error. A bool plus one message per
// decoder, rather than a Result per field, keeps the success path free of error objects; the front
// turns the message into a common::Error.
//
// The readers are defined here, inline, because they run for every field of the Pod; only the
// failure paths (which build text) are out of line. Thread-safety: none (one per decoder).
//
// Include only from targets that link simdjson::simdjson: its SIMDJSON_THREADS_ENABLED definition
// changes the parser's layout, and an includer without it would compile different inline readers.
class JsonReader {
 public:
  // Empty unless the last step failed.
  const std::string& error() const { return error_; }
  std::string take_error() { return std::move(error_); }
  void clear() { error_.clear(); }

  // Failure steps: record the message and return false, so callers can `return reader.fail(...)`.
  bool fail(std::string message);
  bool fail_json(simdjson::error_code code);
  bool fail_type(std::string_view what, std::string_view expected, ondemand::json_type got);

  bool type_of(ondemand::value& value, ondemand::json_type& type) {
    if (auto code = value.type().get(type); code) {
      return fail_json(code);
    }
    return true;
  }

  // A string, or null (read as empty). `what` names the field in the error.
  bool read_string(ondemand::value& value, std::string_view what, std::string_view& out) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!type_of(value, type)) {
      return false;
    }
    if (type == ondemand::json_type::null) {
      out = {};
      return true;
    }
    if (type != ondemand::json_type::string) {
      return fail_type(what, "a string", type);
    }
    if (auto code = value.get_string().get(out); code) {
      return fail_json(code);
    }
    return true;
  }

  // Starts an object or array; `present` is false for null. Another type is an error naming
  // `what`.
  bool open_object(ondemand::value& value, std::string_view what, ondemand::object& out,
                   bool& present) {
    return open_container(value, what, out, present);
  }
  bool open_array(ondemand::value& value, std::string_view what, ondemand::array& out,
                  bool& present) {
    return open_container(value, what, out, present);
  }

  // The one field loop of the decoders: calls visit(key, value) for each field of `object`, key
  // unescaped, and stops at the first false. Fields left unread are skipped by simdjson.
  template <typename Visit>  // bool visit(std::string_view key, ondemand::value& value)
  bool for_each_field(ondemand::object& object, Visit&& visit) {
    for (auto field_result : object) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (!visit(key, field.value())) {
        return false;
      }
    }
    return true;
  }

  // The same over the object `value`, which may be null (no fields). For callers that need not
  // tell null from {}.
  template <typename Visit>
  bool for_each_field(ondemand::value& value, std::string_view what, Visit&& visit) {
    ondemand::object object;
    bool present = false;
    if (!open_object(value, what, object, present)) {
      return false;
    }
    return !present || for_each_field(object, std::forward<Visit>(visit));
  }

  // Calls visit(element) for each element of `array` and stops at the first false.
  template <typename Visit>  // bool visit(ondemand::value& element)
  bool for_each_element(ondemand::array& array, Visit&& visit) {
    for (auto element_result : array) {
      ondemand::value element;
      if (auto code = std::move(element_result).get(element); code) {
        return fail_json(code);
      }
      if (!visit(element)) {
        return false;
      }
    }
    return true;
  }

 private:
  template <typename Container>
  bool open_container(ondemand::value& value, std::string_view what, Container& out,
                      bool& present) {
    constexpr bool kIsObject = std::is_same_v<Container, ondemand::object>;
    constexpr ondemand::json_type kWanted =
        kIsObject ? ondemand::json_type::object : ondemand::json_type::array;
    ondemand::json_type type = ondemand::json_type::null;
    if (!type_of(value, type)) {
      return false;
    }
    present = type != ondemand::json_type::null;
    if (!present) {
      return true;
    }
    if (type != kWanted) {
      return fail_type(what, kIsObject ? "an object" : "an array", type);
    }
    if (auto code = value.get<Container>().get(out); code) {
      return fail_json(code);
    }
    return true;
  }

  std::string error_;
};

}  // namespace epc::http::codec
