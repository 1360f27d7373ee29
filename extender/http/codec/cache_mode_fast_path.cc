#include "extender/http/codec/cache_mode_fast_path.h"

#include <cstddef>
#include <string_view>

#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

namespace {

// Parses the Pod value text [begin, end) as a document of its own. `readable_end`: the bytes up to
// there may be read (content and padding), which simdjson needs past the sub-document.
bool decode_pod_text(const char* begin, const char* end, const char* readable_end,
                     ondemand::parser& parser, ondemand::document& doc, JsonReader& reader,
                     PodFields& pod, const PodDecodeOptions& pod_options) {
  if (auto code = parser
                      .iterate(begin, static_cast<std::size_t>(end - begin),
                               static_cast<std::size_t>(readable_end - begin))
                      .get(doc);
      code) {
    return false;
  }
  ondemand::value value;
  if (auto code = doc.get_value().get(value); code) {
    return false;
  }
  if (!decode_pod(value, reader, pod, pod_options)) {
    return false;
  }
  // The Pod must be all of its text: current_location() fails only at the end of the document.
  const char* trailing = nullptr;
  return doc.current_location().get(trailing) != simdjson::SUCCESS;
}

}  // namespace

bool decode_cache_mode_fast(const PaddedBuffer& body, ondemand::parser& parser,
                            ondemand::document& doc, JsonReader& reader, PodFields& pod,
                            NodeNamesFields& names, const PodDecodeOptions& pod_options) {
  if (body.size() > parser.max_capacity()) {
    return false;
  }
  const char* p = body.data();
  const char* const end = p + body.size();
  const char* const readable_end = p + body.capacity() + kJsonPadding;
  p = skip_json_space(p, end);
  if (p == end || *p != '{') {
    return false;
  }
  p = skip_json_space(p + 1, end);
  for (;;) {
    if (p == end || *p != '"') {
      return false;  // also an empty object: the generic path reports the missing Pod
    }
    const char* const key_begin = ++p;
    while (p < end && is_plain_name_byte(static_cast<unsigned char>(*p))) {
      ++p;
    }
    if (p == end || *p != '"') {
      return false;
    }
    const std::string_view key(key_begin, static_cast<std::size_t>(p - key_begin));
    p = skip_json_space(p + 1, end);
    if (p == end || *p != ':') {
      return false;
    }
    p = skip_json_space(p + 1, end);
    if (p == end) {
      return false;
    }
    if (key_is(key, "nodenames")) {
      names.clear();
      if (*p == 'n') {
        p = skip_null(p, end);
      } else {
        p = scan_plain_names(p, end, names.names);
        names.present = true;
        names.plain = true;
      }
    } else if (key_is(key, "nodes")) {
      p = skip_null(p, end);  // a NodeList takes the generic path
    } else if (key_is(key, "pod")) {
      const char* const value_end = skip_container(p, end);
      if (value_end == nullptr ||
          !decode_pod_text(p, value_end, readable_end, parser, doc, reader, pod, pod_options)) {
        return false;
      }
      p = value_end;
    } else {
      return false;
    }
    if (p == nullptr) {
      return false;
    }
    p = skip_json_space(p, end);
    if (p < end && *p == ',') {
      p = skip_json_space(p + 1, end);
      continue;
    }
    if (p < end && *p == '}') {
      break;
    }
    return false;
  }
  return skip_json_space(p + 1, end) == end && pod.present;
}

}  // namespace epc::http::codec
