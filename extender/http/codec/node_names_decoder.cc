#include "extender/http/codec/node_names_decoder.h"

#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

bool decode_node_names(ondemand::value& value, JsonReader& reader, NodeNamesFields& out) {
  ondemand::array list;
  bool present = false;
  out.clear();
  if (!reader.open_array(value, "ExtenderArgs.NodeNames", list, present)) {
    return false;
  }
  out.present = present;
  if (!present) {
    return true;
  }
  // 5,000 names per request: scan the array's text directly rather than token by token. Anything
  // unusual (an escape sequence, a non-string element) rewinds to the validating walk below, which
  // also words the error.
  std::string_view text;
  if (auto code = list.raw_json().get(text); code) {
    return reader.fail_json(code);
  }
  if (scan_plain_names(text.data(), text.data() + text.size(), out.names) != nullptr) {
    out.plain = true;
    return true;
  }
  out.names.clear();
  if (auto code = list.reset().error(); code) {
    return reader.fail_json(code);
  }
  return reader.for_each_element(list, [&](ondemand::value& element) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!reader.type_of(element, type)) {
      return false;
    }
    if (type != ondemand::json_type::string) {
      return reader.fail_type("ExtenderArgs.NodeNames[]", "a string", type);
    }
    std::string_view name;
    if (auto code = element.get_string().get(name); code) {
      return reader.fail_json(code);
    }
    out.names.push_back(name);
    return true;
  });
}

}  // namespace epc::http::codec
