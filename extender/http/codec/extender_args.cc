#include "extender/http/codec/extender_args.h"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>
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

// ------------------------------------------------------------------------------------------------
// Node names (the hot part: 5,000 names per request)

// Bytes a "plain" node name may hold: printable ASCII except '"' and '\\'. Such a name needs no
// unescaping on the way in and no escaping on the way out, so it is used and echoed verbatim.
// (Kubernetes node names are DNS subdomains: a-z, 0-9, '-' and '.'.)
constexpr bool is_plain_name_byte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Offset of the first byte of the 16 at `p` that is not a plain name byte (16 if none). Reads
// 16 bytes: the caller guarantees they are readable (PaddedBuffer padding).
#if defined(__SSE2__)
unsigned first_special_byte(const char* p) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compare: below 0x20 catches the control characters and, as negative numbers, every
  // byte >= 0x80.
  const __m128i special = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                   _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
      _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)));
  const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
  return mask == 0 ? 16 : static_cast<unsigned>(std::countr_zero(mask));
}
#else
// SWAR twin (Bit Twiddling Hacks' "has zero byte" / "has byte less than n"): the lowest flagged
// byte is always exact, which is all we need.
unsigned first_special_in_word(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (kOnes * static_cast<unsigned char>('"'));
  const std::uint64_t backslash = word ^ (kOnes * static_cast<unsigned char>('\\'));
  const std::uint64_t found = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                               ((word - kOnes * 0x20) & ~word) | word) &
                              kHighBits;
  return found == 0 ? 8 : static_cast<unsigned>(std::countr_zero(found)) / 8;
}
static_assert(std::endian::native == std::endian::little, "first_special_in_word");

unsigned first_special_byte(const char* p) {
  std::uint64_t low, high;
  std::memcpy(&low, p, 8);
  std::memcpy(&high, p + 8, 8);
  const unsigned offset = first_special_in_word(low);
  return offset < 8 ? offset : 8 + first_special_in_word(high);
}
#endif

const char* skip_json_space(const char* p, const char* end) {
  while (p < end && is_json_space(*p)) {
    ++p;
  }
  return p;
}

// Reads a JSON array of plain names, `["a","b",...]`, starting at its '[' into views of the
// input. Returns the position just past the closing ']', or nullptr at the first thing it does
// not handle: a name with any other byte (escapes, non-ASCII), an element that is not a string,
// any unexpected byte. The caller then takes the generic path, which also reports errors. Reads up
// to 15 bytes past `end`: fine inside a PaddedBuffer.
const char* scan_plain_names(const char* p, const char* end, std::vector<std::string_view>& out) {
  if (p == end || *p != '[') {
    return nullptr;
  }
  p = skip_json_space(p + 1, end);
  if (p < end && *p == ']') {
    return p + 1;
  }
  for (;;) {
    if (p >= end || *p != '"') {
      return nullptr;
    }
    const char* const name = ++p;
    for (;;) {
      if (p >= end) {
        return nullptr;
      }
      const unsigned offset = first_special_byte(p);
      p += offset;
      if (offset < 16) {
        break;
      }
    }
    if (p >= end || *p != '"') {
      return nullptr;  // an escape sequence, a control or non-ASCII byte
    }
    out.emplace_back(name, static_cast<std::size_t>(p - name));
    ++p;
    if (p < end && *p == ',') {  // kube-scheduler's compact form: no spaces
      ++p;
      continue;
    }
    p = skip_json_space(p, end);
    if (p < end && *p == ',') {
      p = skip_json_space(p + 1, end);
      continue;
    }
    return p < end && *p == ']' ? p + 1 : nullptr;
  }
}

// Position just past the JSON literal `null` at p, or nullptr.
const char* skip_null(const char* p, const char* end) {
  return end - p >= 4 && std::memcmp(p, "null", 4) == 0 ? p + 4 : nullptr;
}

// Position just past the object or array that starts at p, or nullptr if it is not well nested
// (brackets are matched by kind, up to 64 levels; strings are skipped with their escapes). Only
// delimits the value: its content is checked by whoever parses it.
const char* skip_container(const char* p, const char* end) {
  std::uint64_t kinds = 0;  // bit d set: the container at depth d is an object
  int depth = 0;
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '"') {
      for (++p; p < end && *p != '"'; ++p) {
        if (*p == '\\') {
          ++p;
        }
      }
      if (p >= end) {
        return nullptr;
      }
    } else if (c == '{' || c == '[') {
      if (depth == 64) {
        return nullptr;
      }
      kinds = (kinds & ~(std::uint64_t{1} << depth)) |
              (std::uint64_t{c == '{'} << depth);
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) {
        return nullptr;
      }
      --depth;
      if (((kinds >> depth) & 1) != std::uint64_t{c == '}'}) {
        return nullptr;
      }
      if (depth == 0) {
        return p + 1;
      }
    } else if (depth == 0) {
      return nullptr;  // not a container
    }
  }
  return nullptr;
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
  bool plain_names = false;  // `names` came from scan_plain_names
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
    plain_names = false;
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

  // Starts an object or array; `present` is false for null. Other types are an error naming
  // `what`.
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

  bool open_object(ondemand::value& value, std::string_view what, ondemand::object& out,
                   bool& present) {
    return open_container(value, what, out, present);
  }

  bool open_array(ondemand::value& value, std::string_view what, ondemand::array& out,
                  bool& present) {
    return open_container(value, what, out, present);
  }

  // Calls visit(key, value) for each field of the object `value` (null has no fields) and stops at
  // the first false. A value of another type is an error naming `what`.
  template <typename Visit>
  bool for_each_field(ondemand::value value, std::string_view what, Visit&& visit) {
    ondemand::object object;
    bool present = false;
    if (!open_object(value, what, object, present)) {
      return false;
    }
    if (!present) {
      return true;
    }
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
    return for_each_field(value, "Pod.metadata", [this](std::string_view key, ondemand::value field) {
      if (key_is(key, "name")) {
        return read_string(field, "Pod.metadata.name", pod.name);
      }
      if (key_is(key, "namespace")) {
        return read_string(field, "Pod.metadata.namespace", pod.namespace_name);
      }
      if (key_is(key, "uid")) {
        return read_string(field, "Pod.metadata.uid", pod.uid);
      }
      return true;
    });
  }

  bool parse_spec(ondemand::value value) {
    return for_each_field(value, "Pod.spec", [this](std::string_view key, ondemand::value field) {
      if (key_is(key, "containers")) {
        return parse_container_list(field, /*init=*/false, containers);
      }
      if (key_is(key, "initcontainers")) {
        return parse_container_list(field, /*init=*/true, init_containers);
      }
      if (key_is(key, "overhead")) {
        QuantityProblem problem;
        if (!parse_resource_list(field, "Pod.spec.overhead", "overhead", overhead, problem)) {
          return false;
        }
        if (problem.present) {
          return fail_quantity("pod overhead", problem);
        }
      }
      return true;
    });
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
    plain_names = false;
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
    if (scan_plain_names(text.data(), text.data() + text.size(), names) != nullptr) {
      plain_names = true;
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

  // The fast path for the request kube-scheduler sends in cache mode,
  //   {"Pod":{...},"Nodes":null,"NodeNames":["a","b",...]}
  // (keys in any order and case, any spacing). The top level is walked by hand: the names are
  // read by scan_plain_names and only the Pod's text goes through simdjson, so the 5,000 names
  // are neither indexed by simdjson's stage 1 nor skipped token by token. Returns false for
  // anything else (a NodeList, other top-level keys, escapes or non-ASCII in a key or a name,
  // malformed text, a decode error in the Pod): the caller then resets and runs the generic path
  // on the whole body, which gives the same answer and the error messages.
  bool parse_document_fast(const PaddedBuffer& body) {
    if (body.size() > parser.max_capacity()) {
      return false;
    }
    const char* p = body.data();
    const char* const end = p + body.size();
    // Readable bytes from p on (content and padding), for simdjson's sub-document parse.
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
        plain_names = false;
        if (*p == 'n') {
          p = skip_null(p, end);
          node_names_present = false;
        } else {
          p = scan_plain_names(p, end, names);
          node_names_present = true;
          plain_names = true;
        }
      } else if (key_is(key, "nodes")) {
        p = skip_null(p, end);  // a NodeList takes the generic path
        nodes_present = false;
      } else if (key_is(key, "pod")) {
        const char* const value_end = skip_container(p, end);
        if (value_end == nullptr || !parse_pod_text(p, value_end, readable_end)) {
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
    return skip_json_space(p + 1, end) == end && pod_present;
  }

  // Parses the Pod value text [begin, end) as a document of its own.
  bool parse_pod_text(const char* begin, const char* end, const char* readable_end) {
    if (auto code = parser.iterate(begin, static_cast<std::size_t>(end - begin),
                                   static_cast<std::size_t>(readable_end - begin))
                        .get(doc);
        code) {
      return false;
    }
    ondemand::value value;
    if (auto code = doc.get_value().get(value); code) {
      return false;
    }
    if (!parse_pod(value)) {
      return false;
    }
    const char* trailing = nullptr;
    return doc.current_location().get(trailing) != simdjson::SUCCESS;  // at the end
  }

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
  return decode_with(body, options, /*try_fast_path=*/true);
}

core::Result<ExtenderArgsView> ExtenderArgsDecoder::decode_generic_for_test(
    const PaddedBuffer& body, const core::PodRequestOptions& options) {
  return decode_with(body, options, /*try_fast_path=*/false);
}

core::Result<ExtenderArgsView> ExtenderArgsDecoder::decode_with(
    const PaddedBuffer& body, const core::PodRequestOptions& options, bool try_fast_path) {
  Impl& impl = *impl_;
  impl.reset();
  if (!try_fast_path || !impl.parse_document_fast(body)) {
    impl.reset();
    if (!impl.parse_document(body)) {
      return core::Error{std::move(impl.error)};
    }
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
    view.plain_names = impl.plain_names;
  }
  return view;
}

}  // namespace epc::http::codec
