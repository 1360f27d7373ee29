#pragma once

#include <string_view>
#include <vector>

#include "extender/http/codec/json_reader.h"

namespace epc::http::codec {

// ExtenderArgs.Nodes, the candidates when nodeCacheCapable is false: a full v1.NodeList. Of each
// item the extender needs only metadata.name, and the item's raw text to echo it verbatim in the
// filter reply. clear() keeps the vectors' capacity.
struct NodeListFields {
  bool present = false;                 // false: Nodes was null or absent
  std::vector<std::string_view> names;  // items[i].metadata.name
  std::vector<std::string_view> items;  // the raw JSON text of items[i], same order
  void clear() {
    present = false;
    names.clear();
    items.clear();
  }
};

// Decodes one NodeList value (object or null) into `out`. `doc` is the document `value` belongs
// to: its position after each item marks where the item's raw text ends. Every item must be an
// object with a non-empty metadata.name; on false, reader.error() says which item is at fault.
bool decode_node_list(ondemand::value& value, ondemand::document& doc, JsonReader& reader,
                      NodeListFields& out);

}  // namespace epc::http::codec
