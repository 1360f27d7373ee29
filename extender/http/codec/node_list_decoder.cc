#include "extender/http/codec/node_list_decoder.h"

#include <cstddef>
#include <string>

#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

namespace {

// One Nodes.items[i]: records metadata.name and the item's raw JSON text. The raw text runs from
// the item's opening brace to the structural character after its closing brace, minus spaces.
bool decode_item(ondemand::value& element, ondemand::document& doc, JsonReader& reader,
                 NodeListFields& out) {
  const std::size_t index = out.items.size();
  const std::string_view first_token = element.raw_json_token();
  ondemand::object node;
  bool present = false;
  if (!reader.open_object(element, "ExtenderArgs.Nodes.items[]", node, present)) {
    return false;
  }
  if (!present) {
    return reader.fail("ExtenderArgs.Nodes.items[" + std::to_string(index) + "] is null");
  }
  std::string_view name;
  bool has_name = false;
  // Every field is walked (the visitors never stop early) so that the iterator ends just past the
  // item's closing brace, where current_location() gives the end of the raw text.
  const bool read = reader.for_each_field(node, [&](std::string_view key, ondemand::value& field) {
    if (!key_is(key, "metadata")) {
      return true;
    }
    return reader.for_each_field(
        field, "Node metadata", [&](std::string_view meta_key, ondemand::value& meta_field) {
          if (!key_is(meta_key, "name")) {
            return true;
          }
          if (!reader.read_string(meta_field, "Node metadata.name", name)) {
            return false;
          }
          has_name = true;
          return true;
        });
  });
  if (!read) {
    return false;
  }
  const char* end = nullptr;
  if (auto code = doc.current_location().get(end); code) {
    return reader.fail_json(code);
  }
  if (!has_name || name.empty()) {
    return reader.fail("ExtenderArgs.Nodes.items[" + std::to_string(index) +
                       "] has no metadata.name");
  }
  const char* begin = first_token.data();
  out.items.push_back(
      trim_trailing_space(std::string_view(begin, static_cast<std::size_t>(end - begin))));
  out.names.push_back(name);
  return true;
}

}  // namespace

bool decode_node_list(ondemand::value& value, ondemand::document& doc, JsonReader& reader,
                      NodeListFields& out) {
  ondemand::object node_list;
  bool present = false;
  out.clear();
  if (!reader.open_object(value, "ExtenderArgs.Nodes", node_list, present)) {
    return false;
  }
  out.present = present;
  if (!present) {
    return true;
  }
  return reader.for_each_field(node_list, [&](std::string_view key, ondemand::value& field) {
    if (!key_is(key, "items")) {
      return true;
    }
    // A repeated items key replaces the earlier list, even with null.
    out.names.clear();
    out.items.clear();
    ondemand::array list;
    bool list_present = false;
    if (!reader.open_array(field, "ExtenderArgs.Nodes.items", list, list_present)) {
      return false;
    }
    return !list_present || reader.for_each_element(list, [&](ondemand::value& element) {
      return decode_item(element, doc, reader, out);
    });
  });
}

}  // namespace epc::http::codec
