#include "extender/kube/api_objects.h"

#include <cstring>
#include <limits>
#include <utility>

#include "common/quantity.h"
#include "common/sgx_resources.h"
#include "extender/http/codec/cpu_memory_request.h"
#include "extender/http/codec/json_reader.h"
#include "extender/http/codec/padded_buffer.h"
#include "extender/http/codec/pod_decoder.h"

namespace epc::kube {

namespace codec = http::codec;
namespace ondemand = simdjson::ondemand;

namespace {

constexpr std::size_t kMaxDocumentBytes = std::size_t{512} << 20;

bool contains(std::string_view text, std::string_view needle) {
  return !needle.empty() &&
         memmem(text.data(), text.size(), needle.data(), needle.size()) != nullptr;
}

WatchEventType event_type(std::string_view type, bool& known) {
  known = true;
  if (type == "ADDED") {
    return WatchEventType::kAdded;
  }
  if (type == "MODIFIED") {
    return WatchEventType::kModified;
  }
  if (type == "DELETED") {
    return WatchEventType::kDeleted;
  }
  if (type == "BOOKMARK") {
    return WatchEventType::kBookmark;
  }
  if (type == "ERROR") {
    return WatchEventType::kError;
  }
  known = false;
  return WatchEventType::kError;
}

std::int64_t scaled(std::int64_t amount, std::int64_t unit) {
  if (unit <= 1) {
    return amount;
  }
  return amount > std::numeric_limits<std::int64_t>::max() / unit
             ? std::numeric_limits<std::int64_t>::max()
             : amount * unit;
}

// The parts every decoder shares: the parser, a padded copy of the input, the reader.
struct DocumentDecoder {
  ondemand::parser parser{kMaxDocumentBytes};
  ondemand::document doc;
  codec::PaddedBuffer line;
  codec::JsonReader reader;

  common::Error error(std::string_view what) {
    std::string message(what);
    message.append(": ").append(reader.error().empty() ? "malformed JSON" : reader.error());
    reader.clear();
    return common::Error{std::move(message)};
  }

  bool start(const char* data, std::size_t size, std::size_t readable, ondemand::object& root) {
    reader.clear();
    if (auto code = parser.iterate(data, size, readable).get(doc); code) {
      return reader.fail_json(code);
    }
    if (auto code = doc.get_object().get(root); code) {
      return reader.fail_json(code);
    }
    return true;
  }

  // A list body in place: the string gets the padding simdjson reads past the end.
  bool start_list(std::string& body, ondemand::object& root) {
    body.reserve(body.size() + codec::kJsonPadding);
    return start(body.data(), body.size(), body.capacity(), root);
  }

  bool start_line(std::string_view text, ondemand::object& root) {
    line.assign(text);
    return start(line.data(), line.size(), line.capacity() + codec::kJsonPadding, root);
  }

  // A list body: its page metadata, and `on_item(value)` for each of its items. `what` names the
  // list in the error.
  template <typename OnItem>  // bool on_item(ondemand::value& item)
  common::Result<ListPage> list(std::string& body, std::string_view what, OnItem&& on_item) {
    ListPage page;
    ondemand::object root;
    if (!start_list(body, root)) {
      return error(what);
    }
    const bool read =
        reader.for_each_field(root, [&](std::string_view key, ondemand::value& value) {
          if (key == "metadata") {
            return list_metadata(value, page);
          }
          if (key == "items") {
            ondemand::array items;
            bool present = false;
            if (!reader.open_array(value, "items", items, present)) {
              return false;
            }
            return !present || reader.for_each_element(items, on_item);
          }
          return true;
        });
    if (!read) {
      return error(what);
    }
    return page;
  }

  // metadata.{resourceVersion, continue} of a list.
  bool list_metadata(ondemand::value& value, ListPage& page) {
    return reader.for_each_field(value, "list metadata",
                                 [&](std::string_view key, ondemand::value& field) {
                                   std::string_view text;
                                   if (key == "resourceVersion") {
                                     if (!reader.read_string(field, key, text)) {
                                       return false;
                                     }
                                     page.resource_version = text;
                                   } else if (key == "continue") {
                                     if (!reader.read_string(field, key, text)) {
                                       return false;
                                     }
                                     page.continue_token = text;
                                   }
                                   return true;
                                 });
  }

  // The envelope of a watch line: its type and the object value.
  bool envelope(ondemand::object& root, WatchEventType& type, ondemand::value& object) {
    ondemand::value type_value;
    std::string_view type_text;
    if (auto code = root.find_field_unordered("type").get(type_value); code) {
      return reader.fail_json(code);
    }
    if (!reader.read_string(type_value, "event type", type_text)) {
      return false;
    }
    bool known = false;
    type = event_type(type_text, known);
    if (!known) {
      return reader.fail("unknown watch event type \"" + std::string(type_text) + "\"");
    }
    if (auto code = root.find_field_unordered("object").get(object); code) {
      return reader.fail_json(code);
    }
    return true;
  }

  // An ERROR event's Status: code and message.
  bool status(ondemand::value& object, std::int64_t& code_out, std::string& message_out) {
    return reader.for_each_field(object, "Status", [&](std::string_view key, ondemand::value& v) {
      if (key == "code") {
        if (auto code = v.get_int64().get(code_out); code) {
          return reader.fail_json(code);
        }
      } else if (key == "message") {
        std::string_view text;
        if (!reader.read_string(v, "Status.message", text)) {
          return false;
        }
        message_out = text;
      }
      return true;
    });
  }

  // object.metadata.resourceVersion only (bookmarks, and pods that are not SGX pods).
  bool resource_version_only(ondemand::value& object, std::string& out) {
    ondemand::object obj;
    bool present = false;
    if (!reader.open_object(object, "object", obj, present) || !present) {
      return present || reader.fail("watch event without an object");
    }
    ondemand::value metadata;
    if (auto code = obj.find_field_unordered("metadata").get(metadata); code) {
      return reader.fail_json(code);
    }
    ondemand::object meta;
    if (!reader.open_object(metadata, "metadata", meta, present) || !present) {
      return present || reader.fail("object without metadata");
    }
    ondemand::value rv;
    if (auto code = meta.find_field_unordered("resourceVersion").get(rv); code) {
      return reader.fail_json(code);
    }
    std::string_view text;
    if (!reader.read_string(rv, "resourceVersion", text)) {
      return false;
    }
    out = text;
    return true;
  }
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// Pods.

struct PodDecoder::Impl {
  explicit Impl(const core::PodRequestOptions& o) : options(o) {
    decode_options.epc_aliases = options.epc_aliases;
    decode_options.placement = true;
  }

  core::PodRequestOptions options;
  codec::PodDecodeOptions decode_options;
  DocumentDecoder d;
  codec::PodFields fields;

  bool mentions_sgx(std::string_view text) const {
    if (contains(text, "sgx.intel.com/")) {
      return true;
    }
    for (const common::ResourceAlias& alias : options.epc_aliases) {
      if (contains(text, alias.name)) {
        return true;
      }
    }
    return false;
  }

  bool decode_pod(ondemand::value& value) {
    return codec::decode_pod(value, d.reader, fields, decode_options);
  }

  bool terminal() const { return fields.phase == "Succeeded" || fields.phase == "Failed"; }

  // The decoded fields as the ledger's ApiPod; false when the pod is not an SGX pod, or has no
  // UID, name or namespace (kube-apiserver always sends them; a pod without them could not be
  // told apart from others, bound or released, so it is not accounted at all).
  bool to_api_pod(const core::PodRequest& request, core::ApiPod& pod) const {
    if (fields.identity.uid.empty() || fields.identity.name.empty() ||
        fields.identity.namespace_name.empty()) {
      return false;
    }
    if (!request.wants_sgx()) {
      return false;
    }
    pod.pod.namespace_name.assign(fields.identity.namespace_name)
        .append("/")
        .append(fields.identity.name);
    pod.pod.uid.assign(fields.identity.uid);
    pod.node.assign(fields.node_name);
    pod.request = request;
    pod.priority = fields.priority;
    pod.terminal = terminal();
    return true;
  }

  // Any pod with a UID (without one it could not be removed again, so it is not counted).
  bool to_cpu_memory(const core::PodRequest& request, PodCpuMemory& pod) const {
    if (fields.identity.uid.empty()) {
      return false;
    }
    pod.uid.assign(fields.identity.uid);
    pod.node.assign(fields.node_name);
    pod.terminal = terminal();
    pod.cpu_milli = request.cpu_milli;
    pod.memory_bytes = request.memory_bytes;
    return true;
  }
};

PodDecoder::PodDecoder(const core::PodRequestOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
PodDecoder::~PodDecoder() = default;

common::Result<ListPage> PodDecoder::decode_list(std::string& body, std::vector<core::ApiPod>& out,
                                                 std::vector<PodCpuMemory>* cpu_memory) {
  Impl& m = *impl_;
  return m.d.list(body, "pod list", [&](ondemand::value& item) {
    if (!m.decode_pod(item)) {
      return false;
    }
    const core::PodRequest request = codec::pod_request(m.fields, m.options);
    core::ApiPod pod;
    if (m.to_api_pod(request, pod)) {
      out.push_back(std::move(pod));
    }
    if (cpu_memory != nullptr) {
      PodCpuMemory counted;
      if (m.to_cpu_memory(request, counted)) {
        cpu_memory->push_back(std::move(counted));
      }
    }
    return true;
  });
}

common::Result<bool> PodDecoder::decode_event(std::string_view line, PodEvent& event) {
  Impl& m = *impl_;
  event.sgx = false;
  event.has_cpu_memory = false;
  event.error_code = 0;
  event.error_message.clear();
  event.resource_version.clear();
  const bool worth_decoding = m.mentions_sgx(line) || contains(line, "\"nodeName\"");
  ondemand::object root;
  ondemand::value object;
  if (!m.d.start_line(line, root) || !m.d.envelope(root, event.type, object)) {
    return m.d.error("pod watch event");
  }
  if (event.type == WatchEventType::kError) {
    if (!m.d.status(object, event.error_code, event.error_message)) {
      return m.d.error("watch ERROR event");
    }
    return true;
  }
  if (event.type == WatchEventType::kBookmark || !worth_decoding) {
    if (!m.d.resource_version_only(object, event.resource_version)) {
      return m.d.error("pod watch event");
    }
    return true;
  }
  if (!m.decode_pod(object)) {
    return m.d.error("pod watch event");
  }
  event.resource_version.assign(m.fields.resource_version);
  const core::PodRequest request = codec::pod_request(m.fields, m.options);
  event.sgx = m.to_api_pod(request, event.pod);
  event.has_cpu_memory = m.to_cpu_memory(request, event.cpu_memory);
  return true;
}

// ------------------------------------------------------------------------------------------------
// Nodes.

struct NodeDecoder::Impl {
  explicit Impl(const core::PodRequestOptions& o) : aliases(o.epc_aliases) {}

  std::vector<common::ResourceAlias> aliases;
  DocumentDecoder d;

  bool quantity(ondemand::value& value, std::string_view what, std::int64_t& out) {
    std::string_view text;
    if (!d.reader.read_string(value, what, text)) {
      return false;
    }
    auto amount = common::parse_quantity_units(text);
    if (!amount.ok() || *amount < 0) {
      return d.reader.fail(std::string(what) + " \"" + std::string(text) +
                           "\" is not a valid quantity");
    }
    out = *amount;
    return true;
  }

  // cpu (millicores) or memory (bytes): kube-scheduler's units for NodeResourcesFit.
  bool cpu_memory_quantity(ondemand::value& value, std::string_view what, bool cpu,
                           std::optional<std::int64_t>& out) {
    std::string_view text;
    if (!d.reader.read_string(value, what, text)) {
      return false;
    }
    auto amount = cpu ? codec::parse_cpu_milli(text) : codec::parse_memory_bytes(text);
    if (!amount.ok() || *amount < 0) {
      return d.reader.fail(std::string(what) + " \"" + std::string(text) +
                           "\" is not a valid quantity");
    }
    out = *amount;
    return true;
  }

  bool allocatable(ondemand::value& value, state::ApiNode& node) {
    return d.reader.for_each_field(
        value, "status.allocatable", [&](std::string_view key, ondemand::value& v) {
          std::int64_t amount = 0;
          if (key == "cpu") {
            return cpu_memory_quantity(v, "allocatable cpu", true, node.cpu_allocatable_milli);
          }
          if (key == "memory") {
            return cpu_memory_quantity(v, "allocatable memory", false,
                                       node.memory_allocatable_bytes);
          }
          if (key == common::kEpcResource) {
            if (!quantity(v, key, amount)) {
              return false;
            }
            node.epc_bytes = amount;
          } else if (key == common::kEnclaveResource) {
            if (!quantity(v, key, amount)) {
              return false;
            }
            node.enclave_slots = amount;
          } else if (key == common::kProvisionResource) {
            if (!quantity(v, key, amount)) {
              return false;
            }
            node.provision_slots = amount;
          } else {
            for (const common::ResourceAlias& alias : aliases) {
              if (key == alias.name) {
                if (!quantity(v, key, amount)) {
                  return false;
                }
                if (!node.epc_bytes.has_value()) {
                  node.epc_bytes = scaled(amount, alias.bytes_per_unit);
                }
              }
            }
          }
          return true;
        });
  }

  bool conditions(ondemand::value& value, state::ApiNode& node) {
    ondemand::array list;
    bool present = false;
    if (!d.reader.open_array(value, "status.conditions", list, present)) {
      return false;
    }
    return !present || d.reader.for_each_element(list, [&](ondemand::value& element) {
      std::string_view type;
      std::string_view status;
      if (!d.reader.for_each_field(element, "condition",
                                   [&](std::string_view key, ondemand::value& v) {
                                     if (key == "type") {
                                       return d.reader.read_string(v, "condition type", type);
                                     }
                                     if (key == "status") {
                                       return d.reader.read_string(v, "condition status", status);
                                     }
                                     return true;
                                   })) {
        return false;
      }
      if (type == "Ready") {
        node.readiness =
            status == "True" ? state::NodeReadiness::kReady : state::NodeReadiness::kNotReady;
      }
      return true;
    });
  }

  bool node(ondemand::value& value, state::ApiNode& node, std::string& resource_version) {
    node = state::ApiNode{};
    return d.reader.for_each_field(value, "Node", [&](std::string_view key, ondemand::value& v) {
      if (key == "metadata") {
        return d.reader.for_each_field(v, "Node.metadata",
                                       [&](std::string_view k, ondemand::value& f) {
                                         std::string_view text;
                                         if (k == "name") {
                                           if (!d.reader.read_string(f, "Node name", text)) {
                                             return false;
                                           }
                                           node.name = text;
                                         } else if (k == "resourceVersion") {
                                           if (!d.reader.read_string(f, "resourceVersion", text)) {
                                             return false;
                                           }
                                           resource_version = text;
                                         }
                                         return true;
                                       });
      }
      if (key == "spec") {
        return d.reader.for_each_field(v, "Node.spec", [&](std::string_view k, ondemand::value& f) {
          if (k == "unschedulable") {
            bool flag = false;
            if (auto code = f.get_bool().get(flag); code) {
              return d.reader.fail_json(code);
            }
            node.unschedulable = flag;
          }
          return true;
        });
      }
      if (key == "status") {
        return d.reader.for_each_field(v, "Node.status",
                                       [&](std::string_view k, ondemand::value& f) {
                                         if (k == "allocatable") {
                                           return allocatable(f, node);
                                         }
                                         if (k == "conditions") {
                                           return conditions(f, node);
                                         }
                                         return true;
                                       });
      }
      return true;
    });
  }
};

NodeDecoder::NodeDecoder(const core::PodRequestOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
NodeDecoder::~NodeDecoder() = default;

common::Result<ListPage> NodeDecoder::decode_list(std::string& body,
                                                  std::vector<state::ApiNode>& out) {
  Impl& m = *impl_;
  std::string ignored_rv;
  return m.d.list(body, "node list", [&](ondemand::value& item) {
    state::ApiNode node;
    if (!m.node(item, node, ignored_rv)) {
      return false;
    }
    if (!node.name.empty()) {  // a node without a name cannot be matched to anything: skipped
      out.push_back(std::move(node));
    }
    return true;
  });
}

common::Result<bool> NodeDecoder::decode_event(std::string_view line, NodeEvent& event) {
  Impl& m = *impl_;
  event.error_code = 0;
  event.error_message.clear();
  event.resource_version.clear();
  ondemand::object root;
  ondemand::value object;
  if (!m.d.start_line(line, root) || !m.d.envelope(root, event.type, object)) {
    return m.d.error("node watch event");
  }
  if (event.type == WatchEventType::kError) {
    if (!m.d.status(object, event.error_code, event.error_message)) {
      return m.d.error("watch ERROR event");
    }
    return true;
  }
  if (event.type == WatchEventType::kBookmark) {
    if (!m.d.resource_version_only(object, event.resource_version)) {
      return m.d.error("node watch event");
    }
    return true;
  }
  if (!m.node(object, event.node, event.resource_version)) {
    return m.d.error("node watch event");
  }
  if (event.node.name.empty()) {
    return common::Error{"node watch event: the node has no metadata.name"};
  }
  return true;
}

}  // namespace epc::kube
