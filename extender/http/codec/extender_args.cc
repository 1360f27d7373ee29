#include "extender/http/codec/extender_args.h"

#include <string>
#include <utility>

#include "extender/http/codec/cache_mode_fast_path.h"
#include "extender/http/codec/json_reader.h"
#include "extender/http/codec/node_list_decoder.h"
#include "extender/http/codec/node_names_decoder.h"
#include "extender/http/codec/pod_decoder.h"
#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

// The front: picks the cache-mode fast path or the generic walk, then turns the fields into the
// view. The generic walk here reads only the ExtenderArgs object itself; each value goes to its
// decoder (pod_decoder, node_list_decoder, node_names_decoder).
struct ExtenderArgsDecoder::Impl {
  explicit Impl(std::size_t max_body_bytes) : parser(max_body_bytes) {}

  ondemand::parser parser;
  ondemand::document doc;
  JsonReader reader;

  // Per-request results; cleared (capacity kept) at the start of each decode.
  PodFields pod;
  NodeListFields nodes;
  NodeNamesFields node_names;
  PodDecodeOptions pod_options;  // set per decode (the aliases of the caller's options)

  void reset() {
    pod.clear();
    nodes.clear();
    node_names.clear();
    reader.clear();
  }

  // The reference path: simdjson over the whole body, any ExtenderArgs, all the error messages.
  bool decode_generic(const PaddedBuffer& body) {
    if (body.size() > parser.max_capacity()) {
      return reader.fail("request body of " + std::to_string(body.size()) +
                         " bytes exceeds the limit of " + std::to_string(parser.max_capacity()) +
                         " bytes");
    }
    if (auto code =
            parser.iterate(body.data(), body.size(), body.capacity() + kJsonPadding).get(doc);
        code) {
      return reader.fail_json(code);
    }
    ondemand::json_type type = ondemand::json_type::null;
    if (auto code = doc.type().get(type); code) {
      return reader.fail_json(code);
    }
    if (type != ondemand::json_type::object) {
      // type() only peeks at the first byte ("nonsense" looks like null), so do not claim more.
      return reader.fail("malformed JSON request body: ExtenderArgs must be a JSON object");
    }
    ondemand::object root;
    if (auto code = doc.get_object().get(root); code) {
      return reader.fail_json(code);
    }
    const bool read =
        reader.for_each_field(root, [this](std::string_view key, ondemand::value& value) {
          if (key_is(key, "pod")) {
            return decode_pod(value, reader, pod, pod_options);
          }
          if (key_is(key, "nodes")) {
            return decode_node_list(value, doc, reader, nodes);
          }
          if (key_is(key, "nodenames")) {
            return decode_node_names(value, reader, node_names);
          }
          return true;
        });
    if (!read) {
      return false;
    }
    // Anything but whitespace after the document is malformed input.
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
      return reader.fail("malformed JSON request body: unexpected content after the JSON object");
    }
    if (!pod.present) {
      return reader.fail("ExtenderArgs.Pod is missing or null");
    }
    return true;
  }
};

// ------------------------------------------------------------------------------------------------

ExtenderArgsDecoder::ExtenderArgsDecoder(std::size_t max_body_bytes)
    : impl_(std::make_unique<Impl>(max_body_bytes)) {}

ExtenderArgsDecoder::~ExtenderArgsDecoder() = default;

common::Result<ExtenderArgsView> ExtenderArgsDecoder::decode(
    const PaddedBuffer& body, const core::PodRequestOptions& options) {
  return decode_with(body, options, /*try_fast_path=*/true);
}

common::Result<ExtenderArgsView> ExtenderArgsDecoder::decode_generic_for_test(
    const PaddedBuffer& body, const core::PodRequestOptions& options) {
  return decode_with(body, options, /*try_fast_path=*/false);
}

common::Result<ExtenderArgsView> ExtenderArgsDecoder::decode_with(
    const PaddedBuffer& body, const core::PodRequestOptions& options, bool try_fast_path) {
  Impl& impl = *impl_;
  impl.reset();
  impl.pod_options.epc_aliases = options.epc_aliases;
  if (!try_fast_path || !decode_cache_mode_fast(body, impl.parser, impl.doc, impl.reader, impl.pod,
                                                impl.node_names, impl.pod_options)) {
    // A declined fast path may leave anything behind: start over.
    impl.reset();
    if (!impl.decode_generic(body)) {
      return common::Error{impl.reader.take_error()};
    }
  }
  ExtenderArgsView view;
  view.pod = impl.pod.identity;
  view.request = pod_request(impl.pod, options);
  if (impl.nodes.present) {
    view.source = NodeSource::kNodeList;
    view.node_names = impl.nodes.names;
    view.node_items = impl.nodes.items;
  } else if (impl.node_names.present) {
    view.source = NodeSource::kNodeNames;
    view.node_names = impl.node_names.names;
    view.plain_names = impl.node_names.plain;
  }
  return view;
}

}  // namespace epc::http::codec
