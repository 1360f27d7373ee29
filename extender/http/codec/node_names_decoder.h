#pragma once

#include <string_view>
#include <vector>

#include "extender/http/codec/json_reader.h"

namespace epc::http::codec {

// ExtenderArgs.NodeNames, the candidates when nodeCacheCapable is true: names only, in request
// order. clear() keeps the vector's capacity.
struct NodeNamesFields {
  bool present = false;  // false: NodeNames was null or absent
  std::vector<std::string_view> names;
  // The names came from scan_plain_names: each is plain (scanner.h) and may be echoed verbatim.
  bool plain = false;
  void clear() {
    present = false;
    names.clear();
    plain = false;
  }
};

// Decodes one NodeNames value (array of strings, or null) into `out`. On false, reader.error()
// says why.
bool decode_node_names(ondemand::value& value, JsonReader& reader, NodeNamesFields& out);

}  // namespace epc::http::codec
