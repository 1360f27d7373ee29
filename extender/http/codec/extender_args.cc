#include "extender/http/codec/extender_args.h"

#include <simdjson.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "extender/core/quantity.h"
#include "extender/core/sgx_resources.h"

namespace epc::http::codec {

namespace ondemand = simdjson::ondemand;

namespace {

// ------------------------------------------------------------------------------------------------
// Small helpers

// ASCII case-insensitive equality against a lower-case literal (Go's encoding/json folds case when
// no exact match exists; kube-scheduler itself always sends the exact PascalCase / lowerCamel keys).
bool key_is(std::string_view key, std::string_view lower_literal) {
  if (key.size() != lower_literal.size()) {
    return false;
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != lower_literal[i]) {
      return false;
    }
  }
  return true;
}

bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && is_json_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string_view type_name(ondemand::json_type type) {
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

// Which SGX resource a ResourceList key names, if any.
enum class Resource : std::uint8_t { kNone, kEpc, kEnclave, kProvision };

Resource resource_of(std::string_view key) {
  if (key == core::kEpcResource) {
    return Resource::kEpc;
  }
  if (key == core::kEnclaveResource) {
    return Resource::kEnclave;
  }
  if (key == core::kProvisionResource) {
    return Resource::kProvision;
  }
  return Resource::kNone;
}

// Offset of the first '"' or '\\' in the 8 bytes of `word` (little-endian), or 8 if none.
// SWAR zero-byte test: its lowest set bit is exact, so it locates the first match.
unsigned first_quote_or_backslash(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * static_cast<unsigned char>('"'));
  const std::uint64_t backslash = word ^ (kOnes * static_cast<unsigned char>('\\'));
  const std::uint64_t found =
      (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHighBits;
  return found == 0 ? 8 : static_cast<unsigned>(std::countr_zero(found)) / 8;
}
static_assert(std::endian::native == std::endian::little, "first_quote_or_backslash");

// The fast path for NodeNames: reads `["a","b",...]` (simdjson's stage 1 has already checked that
// every string is closed) into views of the input. Returns false at the first thing it does not
// handle: an escape sequence, an element that is not a string, any unexpected byte; the caller then
// takes the generic path, which also reports errors. Reads up to 7 bytes past a string's closing
// quote: fine inside a PaddedBuffer.
bool scan_plain_names(std::string_view array_text, std::vector<std::string_view>& out) {
  const char* p = array_text.data();
  const char* const end = p + array_text.size();
  const auto skip_space = [&p, end] {
    while (p < end && is_json_space(*p)) {
      ++p;
    }
  };
  if (p == end || *p != '[') {
    return false;
  }
  ++p;
  skip_space();
  if (p < end && *p == ']') {
    return true;
  }
  for (;;) {
    if (p == end || *p != '"') {
      return false;
    }
    const char* const name = ++p;
    for (;;) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof(word));
      const unsigned offset = first_quote_or_backslash(word);
      p += offset;
      if (offset < 8) {
        break;
      }
    }
    if (p >= end || *p != '"') {
      return false;  // an escape sequence (or a string running past the array: impossible)
    }
    out.emplace_back(name, static_cast<std::size_t>(p - name));
    ++p;
    skip_space();
    if (p < end && *p == ',') {
      ++p;
      skip_space();
      continue;
    }
    return p < end && *p == ']';
  }
}

// The first bad quantity met inside a container; reported once the container's name is known
// (Go writes "name" first, but nothing obliges a client to).
struct QuantityProblem {
  bool present = false;
  std::string_view resource;
  std::string_view list;  // "request", "limit", "overhead"
  std::string_view text;
  std::string detail;     // "is negative" or the parser's message
};

}  // namespace

// --------------------------------------------------------------------------------------------------

struct ExtenderArgsDecoder::Impl {
  explicit Impl(std::size_t max_body_bytes) : parser(max_body_bytes) {}

  ondemand::parser parser;
  ondemand::document doc;

  // Per-request results; cleared (capacity kept) at the start of each decode.
  PodIdentity pod;
  bool pod_present = false;
  std::vector<core::ContainerResources> containers;
  std::vector<core::ContainerResources> init_containers;
  core::SgxAmounts overhead;
  bool nodes_present = false;
  bool node_names_present = false;
  std::vector<std::string_view> item_names;
  std::vector<std::string_view> items;
  std::vector<std::string_view> names;
  std::string error;  // set only on failure

  void reset() {
    pod = {};
    pod_present = false;
    containers.clear();
    init_containers.clear();
    overhead = {};
    nodes_present = false;
    node_names_present = false;
    item_names.clear();
    items.clear();
    names.clear();
    error.clear();
  }

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }

  bool fail_json(simdjson::error_code code) {
    return fail(std::string("malformed JSON request body: ") + simdjson::error_message(code));
  }

  // Reads the JSON type of `value`; false (with the error set) if even that fails.
  bool type_of(ondemand::value& value, ondemand::json_type& type) {
    if (auto code = value.type().get(type); code) {
      return fail_json(code);
    }
    return true;
  }

  bool fail_type(std::string_view what, std::string_view expected, ondemand::json_type got) {
    std::string message(what);
    message.append(" must be ").append(expected).append(", got ").append(type_name(got));
    return fail(std::move(message));
  }

  // Reads a string or null (null → empty) for a metadata-like field.
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

  // Starts an object; `present` is false for null. Other types are an error naming `what`.
  bool open_object(ondemand::value& value, std::string_view what, ondemand::object& out,
                   bool& present) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!type_of(value, type)) {
      return false;
    }
    present = type != ondemand::json_type::null;
    if (!present) {
      return true;
    }
    if (type != ondemand::json_type::object) {
      return fail_type(what, "an object", type);
    }
    if (auto code = value.get_object().get(out); code) {
      return fail_json(code);
    }
    return true;
  }

  bool open_array(ondemand::value& value, std::string_view what, ondemand::array& out,
                  bool& present) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!type_of(value, type)) {
      return false;
    }
    present = type != ondemand::json_type::null;
    if (!present) {
      return true;
    }
    if (type != ondemand::json_type::array) {
      return fail_type(what, "an array", type);
    }
    if (auto code = value.get_array().get(out); code) {
      return fail_json(code);
    }
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // Pod

  bool parse_pod(ondemand::value& value) {
    ondemand::object pod_object;
    bool present = false;
    if (!open_object(value, "ExtenderArgs.Pod", pod_object, present)) {
      return false;
    }
    // A repeated Pod key replaces the earlier one (Go keeps the last value).
    pod = {};
    containers.clear();
    init_containers.clear();
    overhead = {};
    pod_present = present;
    if (!present) {
      return true;
    }
    for (auto field_result : pod_object) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (key_is(key, "metadata")) {
        if (!parse_metadata(field.value())) {
          return false;
        }
      } else if (key_is(key, "spec")) {
        if (!parse_spec(field.value())) {
          return false;
        }
      }
    }
    return true;
  }

  bool parse_metadata(ondemand::value value) {
    ondemand::object metadata;
    bool present = false;
    if (!open_object(value, "Pod.metadata", metadata, present)) {
      return false;
    }
    if (!present) {
      return true;
    }
    for (auto field_result : metadata) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (key_is(key, "name")) {
        if (!read_string(field.value(), "Pod.metadata.name", pod.name)) {
          return false;
        }
      } else if (key_is(key, "namespace")) {
        if (!read_string(field.value(), "Pod.metadata.namespace", pod.namespace_name)) {
          return false;
        }
      } else if (key_is(key, "uid")) {
        if (!read_string(field.value(), "Pod.metadata.uid", pod.uid)) {
          return false;
        }
      }
    }
    return true;
  }

  bool parse_spec(ondemand::value value) {
    ondemand::object spec;
    bool present = false;
    if (!open_object(value, "Pod.spec", spec, present)) {
      return false;
    }
    if (!present) {
      return true;
    }
    for (auto field_result : spec) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (key_is(key, "containers")) {
        if (!parse_container_list(field.value(), /*init=*/false, containers)) {
          return false;
        }
      } else if (key_is(key, "initcontainers")) {
        if (!parse_container_list(field.value(), /*init=*/true, init_containers)) {
          return false;
        }
      } else if (key_is(key, "overhead")) {
        QuantityProblem problem;
        if (!parse_resource_list(field.value(), "Pod.spec.overhead", "overhead", overhead,
                                 problem)) {
          return false;
        }
        if (problem.present) {
          return fail_quantity("pod overhead", problem);
        }
      }
    }
    return true;
  }

  bool parse_container_list(ondemand::value value, bool init,
                            std::vector<core::ContainerResources>& out) {
    const std::string_view what = init ? "Pod.spec.initContainers" : "Pod.spec.containers";
    ondemand::array list;
    bool present = false;
    if (!open_array(value, what, list, present)) {
      return false;
    }
    if (!present) {
      return true;
    }
    out.clear();
    std::size_t index = 0;
    for (auto element_result : list) {
      ondemand::value element;
      if (auto code = std::move(element_result).get(element); code) {
        return fail_json(code);
      }
      if (!parse_container(element, init, index, out.emplace_back())) {
        return false;
      }
      ++index;
    }
    return true;
  }

  bool parse_container(ondemand::value& value, bool init, std::size_t index,
                       core::ContainerResources& out) {
    const std::string_view what = init ? "Pod.spec.initContainers[]" : "Pod.spec.containers[]";
    ondemand::object container;
    bool present = false;
    if (!open_object(value, what, container, present)) {
      return false;
    }
    out = {};
    if (!present) {
      return true;
    }
    std::string_view name;
    QuantityProblem problem;
    for (auto field_result : container) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (key_is(key, "name")) {
        if (!read_string(field.value(), "container name", name)) {
          return false;
        }
      } else if (init && key_is(key, "restartpolicy")) {
        std::string_view policy;
        if (!read_string(field.value(), "container restartPolicy", policy)) {
          return false;
        }
        // Only an init container with restartPolicy Always is a sidecar (KEP-753).
        out.restartable = policy == "Always";
      } else if (key_is(key, "resources")) {
        ondemand::object resources;
        bool resources_present = false;
        if (!open_object(field.value(), "container resources", resources, resources_present)) {
          return false;
        }
        if (!resources_present) {
          continue;
        }
        for (auto resource_result : resources) {
          ondemand::field resource_field;
          std::string_view resource_key;
          if (auto code = std::move(resource_result).get(resource_field); code) {
            return fail_json(code);
          }
          if (auto code = resource_field.unescaped_key().get(resource_key); code) {
            return fail_json(code);
          }
          if (key_is(resource_key, "requests")) {
            if (!parse_resource_list(resource_field.value(), "container resources.requests",
                                     "request", out.requests, problem)) {
              return false;
            }
          } else if (key_is(resource_key, "limits")) {
            if (!parse_resource_list(resource_field.value(), "container resources.limits",
                                     "limit", out.limits, problem)) {
              return false;
            }
          }
        }
      }
    }
    if (problem.present) {
      std::string where = init ? "init container " : "container ";
      if (name.empty()) {
        where.append("#").append(std::to_string(index));
      } else {
        where.append("\"").append(name).append("\"");
      }
      return fail_quantity(where, problem);
    }
    return true;
  }

  bool fail_quantity(std::string_view where, const QuantityProblem& problem) {
    std::string message(where);
    message.append(": ")
        .append(problem.resource)
        .append(" ")
        .append(problem.list)
        .append(" \"")
        .append(problem.text)
        .append("\" ")
        .append(problem.detail);
    return fail(std::move(message));
  }

  // A ResourceList (map of resource name → quantity). Only the SGX resources are read; the first
  // bad SGX quantity is recorded in `problem` (the caller names the container).
  bool parse_resource_list(ondemand::value value, std::string_view what, std::string_view list,
                           core::SgxAmounts& out, QuantityProblem& problem) {
    ondemand::object resources;
    bool present = false;
    if (!open_object(value, what, resources, present)) {
      return false;
    }
    if (!present) {
      return true;
    }
    for (auto field_result : resources) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      const Resource resource = resource_of(key);
      if (resource == Resource::kNone) {
        continue;
      }
      ondemand::value quantity = field.value();
      ondemand::json_type type = ondemand::json_type::null;
      if (!type_of(quantity, type)) {
        return false;
      }
      std::string_view text;
      if (type == ondemand::json_type::string) {
        if (auto code = quantity.get_string().get(text); code) {
          return fail_json(code);
        }
      } else if (type == ondemand::json_type::number) {
        // Go's Quantity.UnmarshalJSON also takes a bare number.
        text = trim_trailing_space(quantity.raw_json_token());
      } else if (type == ondemand::json_type::null) {
        text = "0";  // Go decodes a null Quantity as zero
      } else {
        if (!problem.present) {
          problem = {true, key, list, type_name(type), "is not a quantity"};
        }
        continue;
      }
      const core::Result<std::int64_t> amount = core::parse_quantity_units(text);
      if (!amount.ok()) {
        if (!problem.present) {
          problem = {true, key, list, text, "is not a valid quantity: " + amount.error().message};
        }
        continue;
      }
      if (*amount < 0) {
        if (!problem.present) {
          problem = {true, key, list, text, "is negative"};
        }
        continue;
      }
      switch (resource) {
        case Resource::kEpc:
          out.epc_bytes = *amount;
          break;
        case Resource::kEnclave:
          out.enclave_slots = *amount;
          break;
        case Resource::kProvision:
          out.provision_slots = *amount;
          break;
        case Resource::kNone:
          break;
      }
    }
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // Nodes / NodeNames

  bool parse_node_names(ondemand::value& value) {
    ondemand::array list;
    bool present = false;
    names.clear();
    if (!open_array(value, "ExtenderArgs.NodeNames", list, present)) {
      return false;
    }
    node_names_present = present;
    if (!present) {
      return true;
    }
    // Hot path (5,000 names per request): scan the array's text directly. Anything unusual (an
    // escape sequence, a non-string element) rewinds to the generic, validating walk below.
    std::string_view text;
    if (auto code = list.raw_json().get(text); code) {
      return fail_json(code);
    }
    if (scan_plain_names(text, names)) {
      return true;
    }
    names.clear();
    if (auto code = list.reset().error(); code) {
      return fail_json(code);
    }
    for (auto element_result : list) {
      ondemand::value element;
      if (auto code = std::move(element_result).get(element); code) {
        return fail_json(code);
      }
      ondemand::json_type type = ondemand::json_type::null;
      if (!type_of(element, type)) {
        return false;
      }
      if (type != ondemand::json_type::string) {
        return fail_type("ExtenderArgs.NodeNames[]", "a string", type);
      }
      std::string_view name;
      if (auto code = element.get_string().get(name); code) {
        return fail_json(code);
      }
      names.push_back(name);
    }
    return true;
  }

  bool parse_nodes(ondemand::value& value) {
    ondemand::object node_list;
    bool present = false;
    item_names.clear();
    items.clear();
    if (!open_object(value, "ExtenderArgs.Nodes", node_list, present)) {
      return false;
    }
    nodes_present = present;
    if (!present) {
      return true;
    }
    for (auto field_result : node_list) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (!key_is(key, "items")) {
        continue;
      }
      ondemand::array list;
      bool list_present = false;
      item_names.clear();
      items.clear();
      if (!open_array(field.value(), "ExtenderArgs.Nodes.items", list, list_present)) {
        return false;
      }
      if (!list_present) {
        continue;
      }
      for (auto element_result : list) {
        ondemand::value element;
        if (auto code = std::move(element_result).get(element); code) {
          return fail_json(code);
        }
        if (!parse_node_item(element)) {
          return false;
        }
      }
    }
    return true;
  }

  // One Nodes.items[i]: records metadata.name and the item's raw JSON text. The raw text runs from
  // the item's opening brace to the structural character after its closing brace, minus spaces.
  bool parse_node_item(ondemand::value& element) {
    const std::size_t index = items.size();
    const std::string_view first_token = element.raw_json_token();
    ondemand::object node;
    bool present = false;
    if (!open_object(element, "ExtenderArgs.Nodes.items[]", node, present)) {
      return false;
    }
    if (!present) {
      return fail("ExtenderArgs.Nodes.items[" + std::to_string(index) + "] is null");
    }
    std::string_view name;
    bool has_name = false;
    // Walk every field (no early exit) so the iterator ends just past the item's closing brace.
    for (auto field_result : node) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (!key_is(key, "metadata")) {
        continue;
      }
      ondemand::object metadata;
      bool metadata_present = false;
      if (!open_object(field.value(), "Node metadata", metadata, metadata_present)) {
        return false;
      }
      if (!metadata_present) {
        continue;
      }
      for (auto meta_result : metadata) {
        ondemand::field meta_field;
        std::string_view meta_key;
        if (auto code = std::move(meta_result).get(meta_field); code) {
          return fail_json(code);
        }
        if (auto code = meta_field.unescaped_key().get(meta_key); code) {
          return fail_json(code);
        }
        if (key_is(meta_key, "name")) {
          if (!read_string(meta_field.value(), "Node metadata.name", name)) {
            return false;
          }
          has_name = true;
        }
      }
    }
    const char* end = nullptr;
    if (auto code = doc.current_location().get(end); code) {
      return fail_json(code);
    }
    if (!has_name || name.empty()) {
      return fail("ExtenderArgs.Nodes.items[" + std::to_string(index) +
                  "] has no metadata.name");
    }
    const char* begin = first_token.data();
    items.push_back(trim_trailing_space(std::string_view(begin, static_cast<std::size_t>(end - begin))));
    item_names.push_back(name);
    return true;
  }

  // ----------------------------------------------------------------------------------------------

  bool parse_document(const PaddedBuffer& body) {
    if (body.size() > parser.max_capacity()) {
      return fail("request body of " + std::to_string(body.size()) +
                  " bytes exceeds the limit of " + std::to_string(parser.max_capacity()) + " bytes");
    }
    if (auto code = parser.iterate(body.data(), body.size(), body.capacity() + kJsonPadding)
                        .get(doc);
        code) {
      return fail_json(code);
    }
    ondemand::json_type type = ondemand::json_type::null;
    if (auto code = doc.type().get(type); code) {
      return fail_json(code);
    }
    if (type != ondemand::json_type::object) {
      // type() only peeks at the first byte ("nonsense" looks like null), so do not claim more.
      return fail("malformed JSON request body: ExtenderArgs must be a JSON object");
    }
    ondemand::object root;
    if (auto code = doc.get_object().get(root); code) {
      return fail_json(code);
    }
    for (auto field_result : root) {
      ondemand::field field;
      std::string_view key;
      if (auto code = std::move(field_result).get(field); code) {
        return fail_json(code);
      }
      if (auto code = field.unescaped_key().get(key); code) {
        return fail_json(code);
      }
      if (key_is(key, "pod")) {
        if (!parse_pod(field.value())) {
          return false;
        }
      } else if (key_is(key, "nodes")) {
        if (!parse_nodes(field.value())) {
          return false;
        }
      } else if (key_is(key, "nodenames")) {
        if (!parse_node_names(field.value())) {
          return false;
        }
      }
    }
    // Anything but whitespace after the document is malformed input.
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
      return fail("malformed JSON request body: unexpected content after the JSON object");
    }
    if (!pod_present) {
      return fail("ExtenderArgs.Pod is missing or null");
    }
    return true;
  }
};

// --------------------------------------------------------------------------------------------------

ExtenderArgsDecoder::ExtenderArgsDecoder(std::size_t max_body_bytes)
    : impl_(std::make_unique<Impl>(max_body_bytes)) {}

ExtenderArgsDecoder::~ExtenderArgsDecoder() = default;

core::Result<ExtenderArgsView> ExtenderArgsDecoder::decode(const PaddedBuffer& body,
                                                           const core::PodRequestOptions& options) {
  Impl& impl = *impl_;
  impl.reset();
  if (!impl.parse_document(body)) {
    return core::Error{std::move(impl.error)};
  }
  ExtenderArgsView view;
  view.pod = impl.pod;
  view.request = core::compute_pod_request(
      core::PodSpecResources{impl.containers, impl.init_containers, impl.overhead}, options);
  if (impl.nodes_present) {
    view.source = NodeSource::kNodeList;
    view.node_names = impl.item_names;
    view.node_items = impl.items;
  } else if (impl.node_names_present) {
    view.source = NodeSource::kNodeNames;
    view.node_names = impl.names;
  }
  return view;
}

}  // namespace epc::http::codec
