#include "extender/http/codec/bind_args.h"

#include <string_view>

#include "extender/http/codec/json_reader.h"
#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

common::Result<BindArgs> decode_bind_args(const PaddedBuffer& body) {
  // Bind bodies are a few hundred bytes; one parser per thread is reused (no allocation per call
  // once warmed up) and none is kept per connection for a verb most connections never send.
  constexpr std::size_t kMaxBindBody = 64 * 1024;
  if (body.size() > kMaxBindBody) {
    return common::Error{"bind request body of " + std::to_string(body.size()) +
                         " bytes is too large for ExtenderBindingArgs"};
  }
  thread_local ondemand::parser parser(kMaxBindBody);
  JsonReader reader;
  ondemand::document doc;
  BindArgs args;
  auto fail = [&reader]() -> common::Error {
    return common::Error{"malformed bind request: " + reader.take_error()};
  };
  if (auto code = parser.iterate(body.data(), body.size(), body.capacity() + kJsonPadding).get(doc);
      code) {
    reader.fail_json(code);
    return fail();
  }
  ondemand::object root;
  if (auto code = doc.get_object().get(root); code) {
    reader.fail_json(code);
    return fail();
  }
  const bool read = reader.for_each_field(root, [&](std::string_view key, ondemand::value& value) {
    std::string_view text;
    std::string* out = nullptr;
    if (key_is(key, "podname")) {
      out = &args.pod_name;
    } else if (key_is(key, "podnamespace")) {
      out = &args.pod_namespace;
    } else if (key_is(key, "poduid")) {
      out = &args.pod_uid;
    } else if (key_is(key, "node")) {
      out = &args.node;
    } else {
      return true;
    }
    if (!reader.read_string(value, key, text)) {
      return false;
    }
    out->assign(text);
    return true;
  });
  if (!read) {
    return fail();
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return common::Error{"malformed bind request: unexpected content after the JSON object"};
  }
  if (args.pod_name.empty() || args.pod_namespace.empty() || args.node.empty()) {
    return common::Error{"bind request needs PodName, PodNamespace and Node"};
  }
  return args;
}

}  // namespace epc::http::codec
