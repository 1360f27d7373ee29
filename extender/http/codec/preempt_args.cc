#include "extender/http/codec/preempt_args.h"

#include <charconv>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "extender/http/codec/json_reader.h"
#include "extender/http/codec/pod_decoder.h"
#include "extender/http/codec/scanner.h"

namespace epc::http::codec {

namespace {

constexpr std::size_t kNoVictim = std::numeric_limits<std::size_t>::max();

// One map entry while decoding: its victims are a range of VictimMap::victims, which still grows,
// so spans are only taken once the whole body is read.
struct NodeEntry {
  std::string_view name;
  std::int64_t num_pdb_violations = 0;
  std::size_t first_victim = 0;
  std::size_t victim_count = 0;
};

// NodeNameToVictims or NodeNameToMetaVictims. Each has its own storage so that a repeated key or
// the presence of both maps is settled after the walk without re-reading anything.
struct VictimMap {
  bool present = false;
  std::vector<NodeEntry> nodes;
  std::vector<PreemptVictim> victims;
  void clear() {
    present = false;
    nodes.clear();
    victims.clear();
  }
};

}  // namespace

struct PreemptArgsDecoder::Impl {
  explicit Impl(std::size_t max_body_bytes) : parser(max_body_bytes) {}

  ondemand::parser parser;
  ondemand::document doc;
  JsonReader reader;

  PodFields pod;         // the preemptor
  PodFields victim_pod;  // each full victim in turn (its views point into the parser, not here)
  VictimMap meta;        // NodeNameToMetaVictims
  VictimMap full;        // NodeNameToVictims
  std::vector<PreemptNode> nodes;  // the view's entries, built last

  // Set per decode.
  const core::PodRequestOptions* options = nullptr;
  PodDecodeOptions pod_options;
  // Position of the victim a failure happened in, for the message.
  std::size_t failed_victim = kNoVictim;

  void reset() {
    pod.clear();
    victim_pod.clear();
    meta.clear();
    full.clear();
    nodes.clear();
    reader.clear();
    failed_victim = kNoVictim;
  }

  bool decode(const PaddedBuffer& body) {
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
      // type() only peeks at the first byte, so do not claim more than "not an object".
      return reader.fail(
          "malformed JSON request body: ExtenderPreemptionArgs must be a JSON object");
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
          if (key_is(key, "nodenametovictims")) {
            return victim_map(value, /*full_pods=*/true, full);
          }
          if (key_is(key, "nodenametometavictims")) {
            return victim_map(value, /*full_pods=*/false, meta);
          }
          return true;
        });
    if (!read) {
      return false;
    }
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
      return reader.fail("malformed JSON request body: unexpected content after the JSON object");
    }
    if (!pod.present) {
      return reader.fail("ExtenderPreemptionArgs.Pod is missing or null");
    }
    return true;
  }

  // One of the two maps (object or null), replacing what an earlier occurrence of its key gave.
  bool victim_map(ondemand::value& value, bool full_pods, VictimMap& map) {
    const std::string_view map_name = full_pods ? "NodeNameToVictims" : "NodeNameToMetaVictims";
    map.clear();
    ondemand::object object;
    bool present = false;
    const std::string_view what = full_pods ? "ExtenderPreemptionArgs.NodeNameToVictims"
                                            : "ExtenderPreemptionArgs.NodeNameToMetaVictims";
    if (!reader.open_object(value, what, object, present)) {
      return false;
    }
    map.present = present;
    if (!present) {
      return true;
    }
    return reader.for_each_field(object, [&](std::string_view node, ondemand::value& entry) {
      NodeEntry& node_entry = map.nodes.emplace_back();
      node_entry.name = node;
      node_entry.first_victim = map.victims.size();
      failed_victim = kNoVictim;
      if (!victims_entry(entry, full_pods, map, node_entry)) {
        return locate_failure(map_name, node);
      }
      node_entry.victim_count = map.victims.size() - node_entry.first_victim;
      return true;
    });
  }

  // One Victims / MetaVictims object (or null: no victims).
  bool victims_entry(ondemand::value& entry, bool full_pods, VictimMap& map,
                     NodeEntry& node_entry) {
    return reader.for_each_field(
        entry, full_pods ? "Victims" : "MetaVictims",
        [&](std::string_view key, ondemand::value& field) {
          if (key_is(key, "pods")) {
            map.victims.resize(node_entry.first_victim);  // a repeated Pods key replaces
            ondemand::array pods;
            bool present = false;
            if (!reader.open_array(field, "Pods", pods, present)) {
              return false;
            }
            if (!present) {
              return true;
            }
            std::size_t index = 0;
            return reader.for_each_element(pods, [&](ondemand::value& element) {
              PreemptVictim& victim = map.victims.emplace_back();
              const bool ok =
                  full_pods ? full_victim(element, victim) : meta_victim(element, victim);
              if (!ok) {
                failed_victim = index;
                return false;
              }
              ++index;
              return true;
            });
          }
          if (key_is(key, "numpdbviolations")) {
            return pdb_violations(field, node_entry.num_pdb_violations);
          }
          return true;
        });
  }

  // Go decodes NumPDBViolations into an int: a fraction or an exponent is an error there too.
  bool pdb_violations(ondemand::value& value, std::int64_t& out) {
    ondemand::json_type type = ondemand::json_type::null;
    if (!reader.type_of(value, type)) {
      return false;
    }
    if (type == ondemand::json_type::null) {
      out = 0;
      return true;
    }
    if (type != ondemand::json_type::number) {
      return reader.fail_type("NumPDBViolations", "an integer", type);
    }
    // Parsed from the token's text: one read of the value whatever happens, and the failure can
    // quote what was sent.
    const std::string_view text = trim_trailing_space(value.raw_json_token());
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (error != std::errc() || end != text.data() + text.size()) {
      return reader.fail("NumPDBViolations must be a 64-bit integer, got " + std::string(text));
    }
    return true;
  }

  // A MetaPod: {"UID": "..."}. Without a UID the victim could not be named in the reply.
  bool meta_victim(ondemand::value& element, PreemptVictim& out) {
    out = {};
    const bool read = reader.for_each_field(element, "MetaPod",
                                            [&](std::string_view key, ondemand::value& field) {
                                              if (key_is(key, "uid")) {
                                                return reader.read_string(field, "UID", out.uid);
                                              }
                                              return true;
                                            });
    if (!read) {
      return false;
    }
    return !out.uid.empty() || reader.fail("UID is missing or empty");
  }

  // A full v1.Pod victim (non-cache mode): its UID, SGX demand and priority.
  bool full_victim(ondemand::value& element, PreemptVictim& out) {
    out = {};
    ondemand::json_type type = ondemand::json_type::null;
    if (!reader.type_of(element, type)) {
      return false;
    }
    // decode_pod would word this as a problem of ExtenderArgs.Pod.
    if (type != ondemand::json_type::object && type != ondemand::json_type::null) {
      return reader.fail_type("v1.Pod", "an object", type);
    }
    if (!decode_pod(element, reader, victim_pod, pod_options)) {
      return false;
    }
    if (victim_pod.identity.uid.empty()) {
      return reader.fail("metadata.uid is missing or empty");
    }
    out.uid = victim_pod.identity.uid;
    out.pod_decoded = true;
    out.request = pod_request(victim_pod, *options);
    out.priority = victim_pod.priority;
    return true;
  }

  // Prefixes the failure with where it happened (map, node, victim). Malformed-JSON messages are
  // left alone: On-Demand may notice broken text only somewhere after where it starts.
  bool locate_failure(std::string_view map_name, std::string_view node) {
    std::string message = reader.take_error();
    if (message.starts_with("malformed JSON")) {
      return reader.fail(std::move(message));
    }
    std::string located(map_name);
    located.append("[\"").append(node).append("\"]");
    if (failed_victim != kNoVictim) {
      located.append(".Pods[").append(std::to_string(failed_victim)).append("]");
    }
    located.append(": ").append(message);
    return reader.fail(std::move(located));
  }

  PreemptArgsView view() {
    PreemptArgsView out;
    out.pod = pod.identity;
    out.priority = pod.priority;
    out.request = pod_request(pod, *options);
    const VictimMap* chosen = nullptr;
    if (full.present) {
      out.source = VictimSource::kVictims;
      chosen = &full;
    } else if (meta.present) {
      out.source = VictimSource::kMetaVictims;
      chosen = &meta;
    }
    if (chosen != nullptr) {
      const std::span<const PreemptVictim> victims = chosen->victims;
      nodes.reserve(chosen->nodes.size());
      for (const NodeEntry& entry : chosen->nodes) {
        nodes.push_back(
            PreemptNode{.name = entry.name,
                        .num_pdb_violations = entry.num_pdb_violations,
                        .victims = victims.subspan(entry.first_victim, entry.victim_count)});
      }
    }
    out.nodes = nodes;
    return out;
  }
};

// ------------------------------------------------------------------------------------------------

PreemptArgsDecoder::PreemptArgsDecoder(std::size_t max_body_bytes)
    : impl_(std::make_unique<Impl>(max_body_bytes)) {}

PreemptArgsDecoder::~PreemptArgsDecoder() = default;

common::Result<PreemptArgsView> PreemptArgsDecoder::decode(const PaddedBuffer& body,
                                                           const core::PodRequestOptions& options) {
  Impl& impl = *impl_;
  impl.reset();
  impl.options = &options;
  impl.pod_options = PodDecodeOptions{.epc_aliases = options.epc_aliases, .placement = true};
  if (!impl.decode(body)) {
    return common::Error{impl.reader.take_error()};
  }
  return impl.view();
}

// ------------------------------------------------------------------------------------------------

PreemptResultWriter::PreemptResultWriter(std::string& reply, std::size_t size_hint)
    : out_(reply, size_hint) {
  out_.raw("{\"NodeNameToMetaVictims\":{");
}

void PreemptResultWriter::add_node(std::string_view name, std::span<const std::string_view> uids,
                                   std::int64_t num_pdb_violations) {
  if (uids.empty()) {
    return;
  }
  if (!first_) {
    out_.character(',');
  }
  first_ = false;
  out_.string(name);
  out_.raw(":{\"Pods\":[");
  bool first_uid = true;
  for (const std::string_view uid : uids) {
    out_.raw(first_uid ? "{\"UID\":" : ",{\"UID\":");
    first_uid = false;
    out_.string(uid);
    out_.character('}');
  }
  out_.raw("],\"NumPDBViolations\":");
  out_.integer(num_pdb_violations);
  out_.character('}');
}

void PreemptResultWriter::finish() {
  out_.raw("}}");
  out_.finish();
}

void write_preempt_error(std::string_view message, std::string& reply) {
  reply.clear();
  reply.append("{\"NodeNameToMetaVictims\":{},\"Error\":");
  append_json_string(reply, message);
  reply.push_back('}');
}

}  // namespace epc::http::codec
