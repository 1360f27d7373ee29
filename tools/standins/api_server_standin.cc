#include "tools/standins/api_server_standin.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <future>
#include <list>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

// GCC 12 reports -Wnull-dereference inside Boost.Asio's inlined scheduler code at -O2: a false
// positive in a system header (see extender/http/server.cc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#pragma GCC diagnostic pop
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>

namespace epc::tools::standins {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using ms = std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// Text helpers: JSON strings as Go's encoding/json writes them, base64, times, UUIDs

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':  // Go escapes these for HTML safety
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 0xf];
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string js(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

// {"k":"v",...} in key order (Go sorts map keys too).
std::string json_string_map(const std::map<std::string, std::string>& map) {
  std::string out = "{";
  for (const auto& [key, value] : map) {
    if (out.size() > 1) {
      out += ',';
    }
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
  }
  out += '}';
  return out;
}

std::string base64(std::string_view data, bool url) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
                   static_cast<unsigned char>(data[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i < data.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (i + 1 < data.size()) {
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (i + 1 < data.size()) {
      out += alphabet[(n >> 6) & 63];
    }
    if (!url) {
      out += i + 1 < data.size() ? "=" : "==";
    }
  }
  return out;
}

// Standard or URL alphabet, padding optional; nullopt on a foreign character.
std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string format_time(std::chrono::system_clock::time_point at, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

std::string rfc3339(std::chrono::system_clock::time_point at) {
  return format_time(at, "%Y-%m-%dT%H:%M:%SZ");
}

std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

std::string random_uuid(std::mt19937_64& rng) {
  const std::uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));  // NOLINT
  return buf;
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Query values as Go's url.ParseQuery reads them: %XX and '+' for a space.
std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_digit(text[i + 1]);
      const int lo = hex_digit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i] == '+' ? ' ' : text[i];
  }
  return out;
}

using Query = std::map<std::string, std::string>;

Query parse_query(std::string_view query) {
  Query out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    out.emplace(std::move(key), std::move(value));  // the first value wins, as Query().Get
  }
  return out;
}

std::string query_value(const Query& query, const std::string& key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

// strconv.ParseBool's true spellings.
bool query_true(const Query& query, const std::string& key) {
  const std::string v = query_value(query, key);
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

// ---------------------------------------------------------------------------------------------
// Field selectors (spec.nodeName=X, spec.nodeName!=, status.phase!=Succeeded, comma = AND)

enum class Resource { kPods, kNodes };

// The selectable fields of one object.
struct Fields {
  std::string namespace_name;
  std::string name;
  std::string node_name;
  std::string scheduler_name;
  std::string phase;
  bool unschedulable = false;
};

std::optional<std::string> field_value(Resource resource, const Fields& f, std::string_view field) {
  if (field == "metadata.name") {
    return f.name;
  }
  if (resource == Resource::kPods) {
    if (field == "metadata.namespace") {
      return f.namespace_name;
    }
    if (field == "spec.nodeName") {
      return f.node_name;
    }
    if (field == "spec.schedulerName") {
      return f.scheduler_name;
    }
    if (field == "status.phase") {
      return f.phase;
    }
  } else if (field == "spec.unschedulable") {
    return f.unschedulable ? "true" : "false";
  }
  return std::nullopt;
}

struct SelectorTerm {
  std::string field;
  bool equal = true;
  std::string value;
};

struct Selector {
  std::vector<SelectorTerm> terms;
  bool user_given = false;  // a fieldSelector was in the request (remainingItemCount is omitted)

  bool matches(Resource resource, const Fields& fields) const {
    for (const SelectorTerm& term : terms) {
      const auto value = field_value(resource, fields, term.field);
      if (!value || (*value == term.value) != term.equal) {
        return false;
      }
    }
    return true;
  }
};

// Either a selector or the 400 message kube-apiserver gives (10b, 10c).
std::variant<Selector, std::string> parse_field_selector(Resource resource, std::string_view text) {
  Selector selector;
  selector.user_given = !text.empty();
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view term = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    SelectorTerm out;
    std::size_t op = term.find("!=");
    std::size_t op_len = 2;
    if (op != std::string_view::npos) {
      out.equal = false;
    } else if ((op = term.find("==")) == std::string_view::npos) {
      op = term.find('=');
      op_len = 1;
    }
    if (op == std::string_view::npos) {
      return "invalid selector: '" + std::string(text) + "'; can't understand '" +
             std::string(term) + "'";
    }
    out.field = std::string(term.substr(0, op));
    out.value = std::string(term.substr(op + op_len));
    if (!field_value(resource, Fields{}, out.field)) {
      return "field label not supported: " + out.field;
    }
    selector.terms.push_back(std::move(out));
  }
  return selector;
}

// ---------------------------------------------------------------------------------------------
// Status bodies (exactly as captured)

std::string details_json(std::string_view name, std::string_view kind) {
  std::string out = "{";
  if (!name.empty()) {
    out += "\"name\":" + js(name) + ",";
  }
  out += "\"kind\":" + js(kind) + "}";
  return out;
}

std::string status_failure(int code, std::string_view reason, std::string_view message,
                           const std::string& details = "", const std::string& metadata = "{}") {
  std::string out = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":" + metadata +
                    ",\"status\":\"Failure\",\"message\":" + js(message) +
                    ",\"reason\":" + js(reason);
  if (!details.empty()) {
    out += ",\"details\":" + details;
  }
  out += ",\"code\":" + std::to_string(code) + "}\n";
  return out;
}

std::string_view kind_of(Resource r) { return r == Resource::kPods ? "Pod" : "Node"; }
std::string_view plural_of(Resource r) { return r == Resource::kPods ? "pods" : "nodes"; }

// ---------------------------------------------------------------------------------------------
// Objects as the store holds them, and their JSON

constexpr std::string_view kTolerations =
    R"([{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])";

constexpr std::string_view kNodeStatusTail =
    R"("daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"","kubeletVersion":"","kubeProxyVersion":"","operatingSystem":"","architecture":""})";

struct StoredPod {
  PodSpec spec;
  std::string uid;
  std::uint64_t rv = 0;
  std::string created;
  std::string phase;
  std::string phase_patched_at;  // when set_pod_phase ran (a kubectl-patch managedFields entry)
  std::string scheduled_at;      // PodScheduled condition's lastTransitionTime; empty: none
  std::string deletion_timestamp;
  std::optional<std::int64_t> deletion_grace_seconds;
  std::map<std::string, std::string> requests;
  std::map<std::string, std::string> limits;
  std::shared_ptr<const std::string> json;  // list-item form: no kind/apiVersion

  Fields fields() const {
    return {spec.namespace_name, spec.name, spec.node_name, spec.scheduler_name, phase, false};
  }
};

struct StoredNode {
  NodeSpec spec;
  std::map<std::string, std::string> allocatable;
  std::string uid;
  std::uint64_t rv = 0;
  std::string created;
  std::string ready_since;
  std::string allocatable_patched_at;
  std::map<std::string, std::string> allocatable_patched;  // the keys of the last patch
  std::shared_ptr<const std::string> json;

  Fields fields() const { return {"", spec.name, "", "", "", spec.unschedulable}; }
};

std::string managed_keys(const std::map<std::string, std::string>& map) {
  std::string out = R"({".":{})";
  for (const auto& [key, value] : map) {
    out += ",";
    append_json_string(out, "f:" + key);
    out += ":{}";
  }
  return out + "}";
}

// {"f:a":{},"f:b":{}}: fields a patch set, without the "." of a created map.
std::string managed_keys_plain(const std::map<std::string, std::string>& map) {
  std::string out = "{";
  for (const auto& [key, value] : map) {
    if (out.size() > 1) {
      out += ",";
    }
    append_json_string(out, "f:" + key);
    out += ":{}";
  }
  return out + "}";
}

std::string managed_entry(std::string_view manager, std::string_view time,
                          const std::string& fields, std::string_view subresource = "") {
  std::string out = "{\"manager\":" + js(manager) +
                    ",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":" + js(time) +
                    ",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":" + fields;
  if (!subresource.empty()) {
    out += ",\"subresource\":" + js(subresource);
  }
  return out + "}";
}

std::map<std::string, std::string> pod_labels(const StoredPod& p) {
  std::map<std::string, std::string> labels = p.spec.labels;
  labels.emplace("app", p.spec.name);
  if (p.spec.extra_bytes > 0) {
    labels.emplace("app.kubernetes.io/name", p.spec.name);
    labels.emplace("app.kubernetes.io/instance", p.spec.name + "-prod");
    labels.emplace("app.kubernetes.io/component", "enclave");
    labels.emplace("app.kubernetes.io/part-of", "sgx-workloads");
    labels.emplace("app.kubernetes.io/managed-by", "kubectl");
  }
  return labels;
}

std::string pod_resources_json(const StoredPod& p) {
  std::string out = "{";
  if (!p.limits.empty()) {
    out += "\"limits\":" + json_string_map(p.limits);
  }
  if (!p.requests.empty()) {
    out += std::string(p.limits.empty() ? "" : ",") + "\"requests\":" + json_string_map(p.requests);
  }
  return out + "}";
}

// The manifest a `kubectl apply` would have left in last-applied-configuration.
std::string last_applied(const StoredPod& p, const std::map<std::string, std::string>& labels) {
  return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{},\"labels\":" +
         json_string_map(labels) + ",\"name\":" + js(p.spec.name) +
         ",\"namespace\":" + js(p.spec.namespace_name) +
         "},\"spec\":{\"containers\":[{\"image\":\"registry.example/"
         "sgx-app:1.0\",\"name\":\"main\","
         "\"resources\":" +
         pod_resources_json(p) + "}],\"schedulerName\":" + js(p.spec.scheduler_name) + "}}\n";
}

std::string render_pod(const StoredPod& p) {
  const auto labels = pod_labels(p);
  std::string annotations;
  std::map<std::string, std::string> a;
  if (p.spec.extra_bytes > 0) {
    a["kubectl.kubernetes.io/last-applied-configuration"] = last_applied(p, labels);
    std::size_t added = a.begin()->second.size() + 180;  // the labels above, roughly
    if (added < p.spec.extra_bytes) {
      static constexpr std::string_view kLorem =
          "enclave workload measured by the SGX quoting enclave; attestation policy v2; ";
      std::string notes;
      while (notes.size() + added < p.spec.extra_bytes) {
        notes += kLorem;
      }
      notes.resize(p.spec.extra_bytes - added);
      a["sgx.example.com/notes"] = notes;
    }
    annotations = ",\"annotations\":" + json_string_map(a);
  }

  std::string mf = R"({"f:metadata":{)";
  if (p.spec.extra_bytes > 0) {
    mf += "\"f:annotations\":" + managed_keys(a) + ",";
  }
  mf += "\"f:labels\":" + managed_keys(labels) + "}";
  mf +=
      R"(,"f:spec":{"f:containers":{"k:{\"name\":\"main\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{".":{})";
  if (!p.limits.empty()) {
    mf += ",\"f:limits\":" + managed_keys(p.limits);
  }
  if (!p.requests.empty()) {
    mf += ",\"f:requests\":" + managed_keys(p.requests);
  }
  mf +=
      R"(},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},)";
  if (p.spec.node_name.empty() || !p.scheduled_at.empty()) {
    // bound by a binding: no managedFields entry for spec.nodeName (README "Binding")
  } else {
    mf += R"("f:nodeName":{},)";
  }
  mf +=
      R"("f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}})";
  std::string managed =
      "[" + managed_entry(p.spec.extra_bytes > 0 ? "kubectl-client-side-apply" : "kubectl-create",
                          p.created, mf);
  if (!p.phase_patched_at.empty()) {
    managed += "," + managed_entry("kubectl-patch", p.phase_patched_at,
                                   R"({"f:status":{"f:phase":{}}})", "status");
  }
  managed += "]";

  std::string out = "{\"metadata\":{\"name\":" + js(p.spec.name) +
                    ",\"namespace\":" + js(p.spec.namespace_name) + ",\"uid\":" + js(p.uid) +
                    ",\"resourceVersion\":\"" + std::to_string(p.rv) +
                    "\",\"creationTimestamp\":" + js(p.created);
  if (!p.deletion_timestamp.empty()) {
    out +=
        ",\"deletionTimestamp\":" + js(p.deletion_timestamp) +
        ",\"deletionGracePeriodSeconds\":" + std::to_string(p.deletion_grace_seconds.value_or(0));
  }
  out += ",\"labels\":" + json_string_map(labels) + annotations + ",\"managedFields\":" + managed;
  out +=
      "},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"registry.example/sgx-app:1.0\","
      "\"resources\":" +
      pod_resources_json(p) +
      ",\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":"
      "\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\","
      "\"terminationGracePeriodSeconds\":" +
      std::to_string(p.spec.termination_grace_period_seconds) + ",\"dnsPolicy\":\"ClusterFirst\"";
  if (!p.spec.node_name.empty()) {
    out += ",\"nodeName\":" + js(p.spec.node_name);
  }
  out += ",\"securityContext\":{},\"schedulerName\":" + js(p.spec.scheduler_name) +
         ",\"tolerations\":" + std::string(kTolerations) +
         ",\"priority\":" + std::to_string(p.spec.priority) +
         ",\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"}";
  out += ",\"status\":{\"phase\":" + js(p.phase);
  if (!p.scheduled_at.empty()) {
    out +=
        R"(,"conditions":[{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":)" +
        js(p.scheduled_at) + "}]";
  }
  const bool burstable = p.requests.count("cpu") > 0 || p.requests.count("memory") > 0;
  out += std::string(",\"qosClass\":") + (burstable ? "\"Burstable\"" : "\"BestEffort\"") + "}}";
  return out;
}

std::string render_node(const StoredNode& n) {
  std::string mf = "{";
  if (!n.spec.labels.empty()) {
    mf += "\"f:metadata\":{\"f:labels\":" + managed_keys(n.spec.labels) + "}";
  }
  if (n.spec.unschedulable) {
    mf += std::string(mf.size() > 1 ? "," : "") + R"("f:spec":{"f:unschedulable":{}})";
  }
  mf += "}";
  std::string managed = "[" + managed_entry("kubectl-create", n.created, mf);
  if (!n.allocatable_patched_at.empty()) {
    managed += "," + managed_entry("kubectl-patch", n.allocatable_patched_at,
                                   "{\"f:status\":{\"f:allocatable\":" +
                                       managed_keys_plain(n.allocatable_patched) + "}}",
                                   "status");
  }
  managed += "]";
  std::string out = "{\"metadata\":{\"name\":" + js(n.spec.name) + ",\"uid\":" + js(n.uid) +
                    ",\"resourceVersion\":\"" + std::to_string(n.rv) +
                    "\",\"creationTimestamp\":" + js(n.created);
  if (!n.spec.labels.empty()) {
    out += ",\"labels\":" + json_string_map(n.spec.labels);
  }
  out += ",\"managedFields\":" + managed + "},\"spec\":{";
  if (n.spec.unschedulable) {
    out += "\"unschedulable\":true";
  }
  out += "},\"status\":{\"capacity\":" + json_string_map(n.spec.capacity) +
         ",\"allocatable\":" + json_string_map(n.allocatable) + ",";
  if (!n.spec.ready.empty()) {
    const bool ready = n.spec.ready == "True";
    const bool unknown = n.spec.ready == "Unknown";
    out += R"("conditions":[{"type":"Ready","status":)" + js(n.spec.ready) +
           ",\"lastHeartbeatTime\":" + js(n.ready_since) +
           ",\"lastTransitionTime\":" + js(n.ready_since) + ",\"reason\":" +
           (ready     ? R"("KubeletReady","message":"kubelet is posting ready status")"
            : unknown ? R"("NodeStatusUnknown","message":"Kubelet stopped posting node status.")"
                      : R"("KubeletNotReady","message":"container runtime network not ready")") +
           "}],";
  }
  out += std::string(kNodeStatusTail) + "}}";
  return out;
}

// The typed form (watch events, GET): kind and apiVersion first, then the item.
std::string typed(Resource r, const std::string& item) {
  return "{\"kind\":\"" + std::string(kind_of(r)) + "\",\"apiVersion\":\"v1\"," + item.substr(1);
}

std::string event_line(std::string_view type, const std::string& object) {
  return "{\"type\":\"" + std::string(type) + "\",\"object\":" + object + "}\n";
}

std::string bookmark_line(Resource r, std::uint64_t rv, bool initial_events_end) {
  std::string metadata =
      "{\"resourceVersion\":\"" + std::to_string(rv) + "\",\"creationTimestamp\":null";
  if (initial_events_end) {
    const std::string blueprint = "{\"kind\":\"" + std::string(kind_of(r)) +
                                  "List\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":null}\n";
    metadata +=
        ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\","
        "\"kubernetes.io/initial-events-list-blueprint\":\"" +
        base64(blueprint, false) + "\"}";
  }
  metadata += "}";
  const std::string body = r == Resource::kPods
                               ? R"("spec":{"containers":null},"status":{})"
                               : R"("spec":{},"status":{)" + std::string(kNodeStatusTail) + "}";
  return event_line("BOOKMARK", "{\"kind\":\"" + std::string(kind_of(r)) +
                                    "\",\"apiVersion\":\"v1\",\"metadata\":" + metadata + "," +
                                    body + "}");
}

// ---------------------------------------------------------------------------------------------
// Events, watch feeds, list snapshots

struct Event {
  Resource resource = Resource::kPods;
  std::string type;  // ADDED, MODIFIED, DELETED
  std::uint64_t rv = 0;
  std::string object;            // typed JSON of the new (DELETED: last) state
  std::optional<Fields> before;  // nullopt: did not exist
  std::optional<Fields> after;   // nullopt: gone
};

// What one open watch is still to send. Filled under the store mutex by writers; drained by the
// watch's session on the I/O thread (wake() posts there).
struct WatchFeed {
  Resource resource = Resource::kPods;
  Selector selector;
  bool bookmarks = false;
  std::uint64_t start_rv = 0;
  std::deque<std::string> chunks;  // each one chunk on the wire
  bool ended = false;              // after the chunks: the terminating chunk (too-old)
  std::function<void()> wake;
};

// How a watch sees an event through its selector: the type to send, or empty for nothing. A pod
// leaving the selector is DELETED, one entering it ADDED (README, capture 43).
std::string_view seen_as(const WatchFeed& feed, const Event& e) {
  const bool was = e.before && feed.selector.matches(e.resource, *e.before);
  const bool is = e.after && feed.selector.matches(e.resource, *e.after);
  if (was && is) {
    return e.type;
  }
  if (was) {
    return "DELETED";
  }
  if (is) {
    return "ADDED";
  }
  return "";
}

struct SnapshotItem {
  std::string namespace_name;
  std::string name;
  Fields fields;
  std::shared_ptr<const std::string> json;
};

struct Snapshot {
  std::uint64_t rv = 0;
  std::vector<SnapshotItem> items;  // by namespace, then name
};

constexpr std::size_t kSnapshotsKept = 8;

std::string continue_token(Resource r, std::int64_t rv, const SnapshotItem& last, bool slash) {
  std::string start = slash ? "/" : "";
  if (r == Resource::kPods) {
    start += last.namespace_name + "/";
  }
  start += last.name;
  start += '\0';
  return base64(
      "{\"v\":\"meta.k8s.io/v1\",\"rv\":" + std::to_string(rv) + ",\"start\":" + js(start) + "}",
      true);
}

struct ContinueKey {
  std::int64_t rv = 0;
  std::string namespace_name;
  std::string name;
};

std::optional<ContinueKey> parse_continue(Resource r, const std::string& token) {
  const auto decoded = base64_decode(token);
  if (!decoded) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value v = json::parse(*decoded, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  const json::object& o = v.get_object();
  const auto* version = o.if_contains("v");
  const auto* rv = o.if_contains("rv");
  const auto* start = o.if_contains("start");
  if (version == nullptr || !version->is_string() || version->get_string() != "meta.k8s.io/v1" ||
      rv == nullptr || !rv->is_int64() || start == nullptr || !start->is_string()) {
    return std::nullopt;
  }
  std::string key(start->get_string());
  if (!key.empty() && key.front() == '/') {
    key.erase(0, 1);
  }
  if (!key.empty() && key.back() == '\0') {
    key.pop_back();
  }
  ContinueKey out;
  out.rv = rv->get_int64();
  if (r == Resource::kPods) {
    const std::size_t slash = key.find('/');
    if (slash == std::string::npos) {
      return std::nullopt;
    }
    out.namespace_name = key.substr(0, slash);
    out.name = key.substr(slash + 1);
  } else {
    out.name = key;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests and replies, Beast-free: the handlers are plain functions of the request

struct ApiRequest {
  std::string method;
  std::string target;
  std::string authorization;
  std::string body;
  bool cert_verified = false;  // a client certificate the test CA signed
};

struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // after Content-Type
  bool flow_control_headers = true;  // not on 401 (authentication fails before flow control)
  bool privileged_flow = true;       // the admin's flow schema UIDs, else the catch-all's
};

// What the session is to do with a request.
struct Outcome {
  Reply reply;                       // an ordinary response (the default)
  std::shared_ptr<WatchFeed> watch;  // or a watch stream (200, chunked)
  ms watch_timeout{0};
  ms delay{0};  // or this wait, then deferred()'s reply
  std::function<Reply()> deferred;
};

Reply status_reply(int code, std::string body) {
  Reply r;
  r.status = code;
  r.body = std::move(body);
  return r;
}

// An injected failure as kube-apiserver words it (its Status reasons; 429 and 503 with
// Retry-After: 1, as its max-in-flight and priority-and-fairness filters send).
Reply injected_failure(int code) {
  const std::string_view reason = code == 429   ? "TooManyRequests"
                                  : code == 503 ? "ServiceUnavailable"
                                  : code == 504 ? "Timeout"
                                  : code == 409 ? "Conflict"
                                  : code >= 500 ? "InternalError"
                                                : "BadRequest";
  const std::string message = code == 429
                                  ? "Too many requests, please try again later."
                                  : "Internal error occurred: injected failure (ApiServerStandin)";
  Reply r = status_reply(code, status_failure(code, reason, message));
  if (code == 429 || code == 503) {
    r.headers.emplace_back("Retry-After", "1");
  }
  return r;
}

Reply not_found_path() {
  return status_reply(
      404,
      status_failure(404, "NotFound", "the server could not find the requested resource", "{}"));
}

std::string chunk(std::string_view data) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size, static_cast<std::size_t>(n));
  out.append(data);
  out += "\r\n";
  return out;
}

constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Splits text into chunks of at most `size` bytes (0: one chunk).
std::vector<std::string> split_chunks(const std::string& text, std::size_t size) {
  std::vector<std::string> out;
  if (size == 0) {
    size = text.size();
  }
  for (std::size_t at = 0; at < text.size(); at += size) {
    out.push_back(text.substr(at, size));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The stand-in's state: the store (one mutex) and the I/O side (I/O thread only)

namespace {
class Session;
}  // namespace

class ApiServerStandin::Impl {
 public:
  Impl(Options options, TestCertificates certificates);
  ~Impl() { stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  common::Result<std::monostate> open();
  void stop();

  // ----- the store (each takes mutex_)
  common::Result<std::string> create_pod(const PodSpec& spec);
  common::Result<std::monostate> modify_pod(const std::string& ns, const std::string& name,
                                            const std::function<void(StoredPod&)>& change);
  common::Result<std::monostate> delete_pod(const std::string& ns, const std::string& name);
  common::Result<std::monostate> add_node(const NodeSpec& spec);
  common::Result<std::monostate> modify_node(const std::string& name,
                                             const std::function<void(StoredNode&)>& change);
  common::Result<std::monostate> delete_node(const std::string& name);
  PodView view(const StoredPod& p) const;

  // ----- requests (I/O thread)
  Outcome handle(const ApiRequest& request, const std::function<void()>& wake);
  std::string head(const Reply& reply, std::optional<std::size_t> content_length, bool close);
  std::string serialize(const Reply& reply, bool close);
  void count_status(int status);
  // Moves the feed's chunks out; true when the stream is to end after them.
  bool take(WatchFeed& feed, std::deque<std::string>& out);
  void unregister(const std::shared_ptr<WatchFeed>& feed);
  void bookmark_if_moved(WatchFeed& feed);

  // ----- the I/O side
  void run_on_io(const std::function<void()>& fn);
  void do_accept();
  common::Result<std::monostate> listen();
  void close_sessions(bool watches_only);

  Options options_;
  TestCertificates certificates_;
  std::uint16_t port_ = 0;

  // The store. Every field below up to io_ is guarded by mutex_.
  mutable std::mutex mutex_;
  mutable std::condition_variable watches_changed_;
  std::uint64_t rv_ = 0;
  std::map<std::pair<std::string, std::string>, StoredPod> pods_;
  std::map<std::string, StoredNode> nodes_;
  std::deque<std::shared_ptr<const Event>> history_;
  std::uint64_t history_floor_ = 0;  // every event after this revision is in history_
  std::list<std::shared_ptr<WatchFeed>> feeds_;
  std::map<std::pair<Resource, std::uint64_t>, std::shared_ptr<const Snapshot>> snapshots_;
  std::deque<std::pair<Resource, std::uint64_t>> snapshot_order_;
  ApiServerCounters counters_;
  std::size_t failing_bindings_ = 0;
  int failing_status_ = 500;
  ms binding_delay_{0};
  std::size_t failing_reads_ = 0;
  int failing_read_status_ = 500;
  ms list_delay_{0};
  std::function<void(const BindingRecord&)> binding_observer_;
  ServiceAccountTokens tokens_;
  std::mt19937_64 rng_{std::random_device{}()};

 private:
  std::uint64_t next_rv() { return ++rv_; }
  void publish(Event event);
  std::shared_ptr<const Snapshot> current_snapshot(Resource r) const;
  void remember(Resource r, const std::shared_ptr<const Snapshot>& snapshot);
  Outcome list(Resource r, const std::string& ns, const Query& q, bool may_wait);
  Outcome watch(Resource r, const std::string& ns, const Query& q,
                const std::function<void()>& wake);
  Outcome get(Resource r, const std::string& ns, const std::string& name);
  Outcome bind(const std::string& ns, const std::string& name, const std::string& body);
  Outcome review_token(const std::string& body);
  Reply apply_binding(const std::string& ns, const std::string& name, const std::string& uid,
                      const std::string& node);

 public:
  // The I/O side; declared last so the io_context (and the sessions its handlers own) goes
  // first, while the store they unregister from still exists.
  ssl::context ssl_{ssl::context::tls_server};
  std::string flow_uids_[4];
  std::mt19937_64 io_rng_{std::random_device{}()};  // I/O thread only: Audit-Id
  std::list<std::weak_ptr<Session>> sessions_;      // I/O thread only
  bool down_ = false;                               // I/O thread only
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::thread::id io_thread_id_;
  bool stopped_ = false;
};

namespace {

// ---------------------------------------------------------------------------------------------
// One TLS connection: reads requests, writes replies, and streams a watch from its feed

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Impl = ApiServerStandin::Impl;

  Session(Impl& impl, tcp::socket socket)
      : impl_(impl),
        stream_(std::move(socket), impl.ssl_),
        timer_(impl.io_),
        bookmark_timer_(impl.io_),
        last_bookmark_timer_(impl.io_) {}

  void start() {
    stream_.async_handshake(
        ssl::stream_base::server, [self = shared_from_this()](const boost::system::error_code& ec) {
          if (ec) {
            self->close();
            return;
          }
          SSL* ssl = self->stream_.native_handle();
          self->cert_verified_ =
              SSL_get0_peer_certificate(ssl) != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
          self->do_read();
        });
  }

  bool watching() const { return feed_ != nullptr; }

  // Abrupt: the TCP connection goes, mid-stream if need be (no last chunk, no close_notify).
  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    end_feed();
    boost::system::error_code ec;
    timer_.cancel();
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
  }

  // Wakes from the store's writers, on any thread: pump() on the I/O thread.
  std::function<void()> waker() {
    return [weak = weak_from_this(), &io = impl_.io_] {
      asio::post(io, [weak] {
        if (auto self = weak.lock()) {
          self->pump();
        }
      });
    };
  }

 private:
  void do_read() {
    if (closed_) {
      return;
    }
    parser_.emplace();
    parser_->body_limit(impl_.options_.body_limit_bytes);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(const boost::system::error_code& ec) {
    if (closed_) {
      return;
    }
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == ssl::error::stream_truncated || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset) {
        close();
        return;
      }
      // A malformed request: a 400 Status, then the connection goes (as Go's server does).
      send(impl_.serialize(
          status_reply(
              400, status_failure(400, "BadRequest", "malformed HTTP request: " + ec.message())),
          true));
      close_after_write_ = true;
      return;
    }
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive();
    ApiRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.authorization = std::string(req[http::field::authorization]);
    request.body = std::move(req.body());
    request.cert_verified = cert_verified_;
    Outcome outcome;
    try {
      outcome = impl_.handle(request, waker());
    } catch (const std::exception& e) {
      outcome = Outcome{};
      outcome.reply =
          status_reply(500, status_failure(500, "InternalError",
                                           std::string("Internal error occurred: ") + e.what()));
    }
    if (outcome.watch) {
      start_watch(std::move(outcome.watch), outcome.watch_timeout);
    } else if (outcome.deferred) {
      timer_.expires_after(outcome.delay);
      timer_.async_wait([self = shared_from_this(), deferred = std::move(outcome.deferred)](
                            const boost::system::error_code& wait_ec) {
        if (wait_ec || self->closed_) {
          return;
        }
        Reply reply;
        try {
          reply = deferred();
        } catch (const std::exception& e) {
          reply = status_reply(500,
                               status_failure(500, "InternalError",
                                              std::string("Internal error occurred: ") + e.what()));
        }
        self->respond(reply);
      });
    } else {
      respond(outcome.reply);
    }
  }

  void respond(const Reply& reply) {
    impl_.count_status(reply.status);
    send(impl_.serialize(reply, !keep_alive_));
    if (keep_alive_) {
      read_after_write_ = true;
    } else {
      close_after_write_ = true;
    }
  }

  // ----- watch streams
  void start_watch(std::shared_ptr<WatchFeed> feed, ms timeout) {
    impl_.count_status(200);
    feed_ = std::move(feed);
    ++watch_generation_;
    Reply head;
    send(impl_.head(head, std::nullopt, false));
    watch_read();
    const std::uint64_t generation = watch_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
      if (!ec && self->watch_generation_ == generation && self->feed_) {
        self->finish_watch();
      }
    });
    if (feed_->bookmarks && impl_.options_.bookmark_interval.count() > 0) {
      arm_bookmark_timer(generation);
    }
    // kube-apiserver sends one bookmark about 2 s before timeoutSeconds runs out (13, 31, 38).
    if (feed_->bookmarks && timeout > std::chrono::seconds(2)) {
      last_bookmark_timer_.expires_after(timeout - std::chrono::seconds(2));
      last_bookmark_timer_.async_wait(
          [self = shared_from_this(), generation](const boost::system::error_code& ec) {
            if (!ec && self->watch_generation_ == generation && self->feed_) {
              self->impl_.bookmark_if_moved(*self->feed_);
              self->pump();
            }
          });
    }
    pump();
  }

  void arm_bookmark_timer(std::uint64_t generation) {
    bookmark_timer_.expires_after(impl_.options_.bookmark_interval);
    bookmark_timer_.async_wait(
        [self = shared_from_this(), generation](const boost::system::error_code& ec) {
          if (ec || self->watch_generation_ != generation || !self->feed_) {
            return;
          }
          self->impl_.bookmark_if_moved(*self->feed_);
          self->pump();
          self->arm_bookmark_timer(generation);
        });
  }

  void pump() {
    if (!feed_ || closed_) {
      return;
    }
    std::deque<std::string> chunks;
    const bool ended = impl_.take(*feed_, chunks);
    for (const std::string& c : chunks) {
      send(chunk(c));
    }
    if (ended) {
      finish_watch();
    }
  }

  // A clean end: whatever is queued, then the last chunk; the connection stays for more requests.
  void finish_watch() {
    std::deque<std::string> chunks;
    impl_.take(*feed_, chunks);
    for (const std::string& c : chunks) {
      send(chunk(c));
    }
    end_feed();
    send(std::string(kLastChunk));
    if (!keep_alive_) {
      close_after_write_ = true;
    }
  }

  void end_feed() {
    if (feed_) {
      impl_.unregister(feed_);
      feed_.reset();
      ++watch_generation_;
      bookmark_timer_.cancel();
      last_bookmark_timer_.cancel();
    }
  }

  // While a watch streams, a read stays posted so a client that goes away is noticed; bytes that
  // arrive (the next request, once the watch ended) are kept for the parser.
  void watch_read() {
    auto buffers = buffer_.prepare(4096);
    stream_.async_read_some(
        buffers, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (self->closed_) {
            return;
          }
          if (ec) {
            self->close();
            return;
          }
          self->buffer_.commit(n);
          if (self->feed_) {
            self->watch_read();
          } else {
            self->do_read();
          }
        });
  }

  // ----- writes, in order
  void send(std::string bytes) {
    out_.push_back(std::move(bytes));
    if (!writing_) {
      do_write();
    }
  }

  void do_write() {
    if (closed_) {
      return;
    }
    if (out_.empty()) {
      writing_ = false;
      if (close_after_write_) {
        graceful_close();
      } else if (read_after_write_) {
        read_after_write_ = false;
        do_read();
      }
      return;
    }
    writing_ = true;
    asio::async_write(
        stream_, asio::buffer(out_.front()),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (ec) {
            self->close();
            return;
          }
          self->out_.pop_front();
          self->do_write();
        });
  }

  void graceful_close() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) {
        self->close();
      }
    });
    stream_.async_shutdown(
        [self = shared_from_this()](const boost::system::error_code&) { self->close(); });
  }

  Impl& impl_;
  ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  asio::steady_timer timer_;  // watch deadline, deferred replies, the close grace
  asio::steady_timer bookmark_timer_;
  asio::steady_timer last_bookmark_timer_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool read_after_write_ = false;
  bool close_after_write_ = false;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool cert_verified_ = false;
  std::shared_ptr<WatchFeed> feed_;
  std::uint64_t watch_generation_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl: lifecycle and the I/O side

ApiServerStandin::Impl::Impl(Options options, TestCertificates certificates)
    : options_(std::move(options)), certificates_(std::move(certificates)) {
  rv_ = options_.initial_resource_version;
  history_floor_ = rv_;
  for (std::string& uid : flow_uids_) {
    uid = random_uuid(rng_);
  }
}

namespace {

// ALPN: http/1.1 when offered, never h2 (the stand-in speaks HTTP/1.1 only).
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                const unsigned char* in, unsigned int in_len, void* /*arg*/) {
  for (unsigned int i = 0; i < in_len;) {
    const unsigned int len = in[i];
    if (i + 1 + len > in_len) {
      break;
    }
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == "http/1.1") {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

common::Result<std::monostate> ApiServerStandin::Impl::open() {
  boost::system::error_code ec;
  ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  const auto& c = certificates_;
  if (!ec) {
    ssl_.use_certificate_chain(asio::buffer(c.server_cert_pem), ec);
  }
  if (!ec) {
    ssl_.use_private_key(asio::buffer(c.server_key_pem), ssl::context::pem, ec);
  }
  if (!ec) {
    ssl_.add_certificate_authority(asio::buffer(c.ca_cert_pem), ec);
  }
  if (!ec) {
    // Client certificates are optional; one the CA did not sign fails the handshake.
    ssl_.set_verify_mode(ssl::verify_peer, ec);
  }
  if (ec) {
    return common::Error{"api server stand-in: TLS setup: " + ec.message()};
  }
  SSL_CTX* ctx = ssl_.native_handle();
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(c.ca_cert_pem.data(), static_cast<int>(c.ca_cert_pem.size())), &BIO_free);
    X509* ca = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (ca == nullptr || SSL_CTX_add_client_CA(ctx, ca) != 1) {
      X509_free(ca);
      return common::Error{"api server stand-in: cannot announce the client CA"};
    }
    X509_free(ca);
  }
  port_ = options_.port;
  auto listening = listen();
  if (!listening.ok()) {
    return listening;
  }
  std::promise<std::thread::id> started;
  auto started_id = started.get_future();
  thread_ = std::thread([this, &started] {
    started.set_value(std::this_thread::get_id());
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
  io_thread_id_ = started_id.get();
  return std::monostate{};
}

common::Result<std::monostate> ApiServerStandin::Impl::listen() {
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port_);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return common::Error{"api server stand-in: cannot listen on 127.0.0.1:" +
                         std::to_string(port_) + ": " + ec.message()};
  }
  port_ = acceptor_.local_endpoint().port();
  do_accept();
  return std::monostate{};
}

void ApiServerStandin::Impl::do_accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec || !acceptor_.is_open()) {
      return;  // closed (down or stopping)
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions_.remove_if([](const std::weak_ptr<Session>& s) { return s.expired(); });
    sessions_.push_back(session);
    session->start();
    do_accept();
  });
}

void ApiServerStandin::Impl::run_on_io(const std::function<void()>& fn) {
  if (std::this_thread::get_id() == io_thread_id_ || !thread_.joinable()) {
    fn();
    return;
  }
  std::promise<void> done;
  asio::post(io_, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void ApiServerStandin::Impl::close_sessions(bool watches_only) {
  for (const auto& weak : sessions_) {
    if (auto session = weak.lock(); session && (!watches_only || session->watching())) {
      session->close();
    }
  }
}

void ApiServerStandin::Impl::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (thread_.joinable()) {
    run_on_io([this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      close_sessions(false);
    });
    io_.stop();
    thread_.join();
  }
}

std::string ApiServerStandin::Impl::head(const Reply& reply,
                                         std::optional<std::size_t> content_length, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                    std::string(http::obsolete_reason(static_cast<http::status>(reply.status))) +
                    "\r\nAudit-Id: " + random_uuid(io_rng_) +
                    "\r\nCache-Control: no-cache, private\r\nContent-Type: application/json\r\n";
  for (const auto& [name, value] : reply.headers) {
    out += name + ": " + value + "\r\n";
  }
  if (reply.flow_control_headers) {
    const int base = reply.privileged_flow ? 0 : 2;
    out += "X-Kubernetes-Pf-Flowschema-Uid: " + flow_uids_[base] +
           "\r\nX-Kubernetes-Pf-Prioritylevel-Uid: " + flow_uids_[base + 1] + "\r\n";
  }
  out += "Date: " + format_time(std::chrono::system_clock::now(), "%a, %d %b %Y %H:%M:%S GMT") +
         "\r\n";
  if (close) {
    out += "Connection: close\r\n";
  }
  if (content_length) {
    out += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  } else {
    out += "Transfer-Encoding: chunked\r\n";
  }
  return out + "\r\n";
}

std::string ApiServerStandin::Impl::serialize(const Reply& reply, bool close) {
  if (reply.body.size() < options_.content_length_limit) {
    return head(reply, reply.body.size(), close) + reply.body;
  }
  std::string out = head(reply, std::nullopt, close);
  for (const std::string& piece : split_chunks(reply.body, options_.list_chunk_bytes)) {
    out += chunk(piece);
  }
  return out + std::string(kLastChunk);
}

void ApiServerStandin::Impl::count_status(int status) {
  std::lock_guard lock(mutex_);
  ++counters_.responses_by_status[status];
}

bool ApiServerStandin::Impl::take(WatchFeed& feed, std::deque<std::string>& out) {
  std::lock_guard lock(mutex_);
  out.swap(feed.chunks);
  return feed.ended;
}

void ApiServerStandin::Impl::unregister(const std::shared_ptr<WatchFeed>& feed) {
  std::lock_guard lock(mutex_);
  feeds_.remove(feed);
  counters_.open_watches = feeds_.size();
  watches_changed_.notify_all();
}

void ApiServerStandin::Impl::bookmark_if_moved(WatchFeed& feed) {
  std::lock_guard lock(mutex_);
  if (feed.bookmarks && !feed.ended && rv_ > feed.start_rv) {
    feed.chunks.push_back(bookmark_line(feed.resource, rv_, false));
  }
}

// ---------------------------------------------------------------------------------------------
// Impl: the store

void ApiServerStandin::Impl::publish(Event event) {
  auto e = std::make_shared<const Event>(std::move(event));
  history_.push_back(e);
  while (history_.size() > options_.history_size) {
    history_floor_ = history_.front()->rv;
    history_.pop_front();
  }
  for (const auto& feed : feeds_) {
    if (feed->resource != e->resource || e->rv <= feed->start_rv) {
      continue;
    }
    const std::string_view type = seen_as(*feed, *e);
    if (!type.empty()) {
      feed->chunks.push_back(event_line(type, e->object));
      feed->wake();
    }
  }
}

PodView ApiServerStandin::Impl::view(const StoredPod& p) const {
  return {p.spec.namespace_name,         p.spec.name, p.uid,     p.spec.node_name, p.phase,
          !p.deletion_timestamp.empty(), p.rv,        p.requests};
}

common::Result<std::string> ApiServerStandin::Impl::create_pod(const PodSpec& spec) {
  if (spec.name.empty() || spec.namespace_name.empty()) {
    return common::Error{"create_pod: namespace and name are required"};
  }
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(spec.namespace_name, spec.name);
  if (pods_.count(key) > 0) {
    return common::Error{"pods \"" + spec.name + "\" already exists"};
  }
  StoredPod p;
  p.spec = spec;
  p.uid = spec.uid.empty() ? random_uuid(rng_) : spec.uid;
  p.created = now_rfc3339();
  p.phase = spec.phase;
  if (!spec.epc.empty()) {
    p.requests["sgx.intel.com/epc"] = spec.epc;
  }
  const int enclave = spec.enclave_slots.value_or(spec.epc.empty() ? 0 : 1);
  if (enclave > 0) {
    p.requests["sgx.intel.com/enclave"] = std::to_string(enclave);
  }
  if (spec.provision_slots > 0) {
    p.requests["sgx.intel.com/provision"] = std::to_string(spec.provision_slots);
  }
  for (const auto& [name, quantity] : spec.extra_requests) {
    p.requests[name] = quantity;
  }
  for (const auto& [name, quantity] : p.requests) {
    if (name.find('/') != std::string::npos) {
      p.limits[name] = quantity;  // extended resources: limit = request
    }
  }
  p.rv = next_rv();
  p.json = std::make_shared<const std::string>(render_pod(p));
  publish(
      {Resource::kPods, "ADDED", p.rv, typed(Resource::kPods, *p.json), std::nullopt, p.fields()});
  std::string uid = p.uid;
  pods_.emplace(std::move(key), std::move(p));
  return uid;
}

common::Result<std::monostate> ApiServerStandin::Impl::modify_pod(
    const std::string& ns, const std::string& name, const std::function<void(StoredPod&)>& change) {
  std::lock_guard lock(mutex_);
  auto it = pods_.find({ns, name});
  if (it == pods_.end()) {
    return common::Error{"pods \"" + name + "\" not found in namespace " + ns};
  }
  StoredPod& p = it->second;
  const Fields before = p.fields();
  change(p);
  p.rv = next_rv();
  p.json = std::make_shared<const std::string>(render_pod(p));
  publish({Resource::kPods, "MODIFIED", p.rv, typed(Resource::kPods, *p.json), before, p.fields()});
  return std::monostate{};
}

common::Result<std::monostate> ApiServerStandin::Impl::delete_pod(const std::string& ns,
                                                                  const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = pods_.find({ns, name});
  if (it == pods_.end()) {
    return common::Error{"pods \"" + name + "\" not found in namespace " + ns};
  }
  StoredPod& p = it->second;
  const Fields before = p.fields();
  if (p.deletion_timestamp.empty() || p.deletion_grace_seconds.value_or(-1) != 0) {
    p.deletion_timestamp = now_rfc3339();
    p.deletion_grace_seconds = 0;
    p.rv = next_rv();
    p.json = std::make_shared<const std::string>(render_pod(p));
    publish({Resource::kPods, "MODIFIED", p.rv, typed(Resource::kPods, *p.json), before, before});
  }
  p.rv = next_rv();  // DELETED carries the deletion's revision and the last state
  p.json = std::make_shared<const std::string>(render_pod(p));
  publish(
      {Resource::kPods, "DELETED", p.rv, typed(Resource::kPods, *p.json), before, std::nullopt});
  pods_.erase(it);
  return std::monostate{};
}

common::Result<std::monostate> ApiServerStandin::Impl::add_node(const NodeSpec& spec) {
  if (spec.name.empty()) {
    return common::Error{"add_node: a name is required"};
  }
  std::lock_guard lock(mutex_);
  if (nodes_.count(spec.name) > 0) {
    return common::Error{"nodes \"" + spec.name + "\" already exists"};
  }
  StoredNode n;
  n.spec = spec;
  n.allocatable = spec.allocatable.value_or(spec.capacity);
  n.uid = spec.uid.empty() ? random_uuid(rng_) : spec.uid;
  n.created = now_rfc3339();
  n.ready_since = n.created;
  n.rv = next_rv();
  n.json = std::make_shared<const std::string>(render_node(n));
  publish({Resource::kNodes, "ADDED", n.rv, typed(Resource::kNodes, *n.json), std::nullopt,
           n.fields()});
  nodes_.emplace(spec.name, std::move(n));
  return std::monostate{};
}

common::Result<std::monostate> ApiServerStandin::Impl::modify_node(
    const std::string& name, const std::function<void(StoredNode&)>& change) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) {
    return common::Error{"nodes \"" + name + "\" not found"};
  }
  StoredNode& n = it->second;
  const Fields before = n.fields();
  change(n);
  n.rv = next_rv();
  n.json = std::make_shared<const std::string>(render_node(n));
  publish(
      {Resource::kNodes, "MODIFIED", n.rv, typed(Resource::kNodes, *n.json), before, n.fields()});
  return std::monostate{};
}

common::Result<std::monostate> ApiServerStandin::Impl::delete_node(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) {
    return common::Error{"nodes \"" + name + "\" not found"};
  }
  StoredNode& n = it->second;
  n.rv = next_rv();
  n.json = std::make_shared<const std::string>(render_node(n));
  publish({Resource::kNodes, "DELETED", n.rv, typed(Resource::kNodes, *n.json), n.fields(),
           std::nullopt});
  nodes_.erase(it);
  return std::monostate{};
}

std::shared_ptr<const Snapshot> ApiServerStandin::Impl::current_snapshot(Resource r) const {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->rv = rv_;
  if (r == Resource::kPods) {
    snapshot->items.reserve(pods_.size());
    for (const auto& [key, p] : pods_) {
      snapshot->items.push_back({key.first, key.second, p.fields(), p.json});
    }
  } else {
    snapshot->items.reserve(nodes_.size());
    for (const auto& [name, n] : nodes_) {
      snapshot->items.push_back({"", name, n.fields(), n.json});
    }
  }
  return snapshot;
}

void ApiServerStandin::Impl::remember(Resource r, const std::shared_ptr<const Snapshot>& snapshot) {
  const auto key = std::make_pair(r, snapshot->rv);
  if (snapshots_.emplace(key, snapshot).second) {
    snapshot_order_.push_back(key);
    while (snapshot_order_.size() > kSnapshotsKept) {
      snapshots_.erase(snapshot_order_.front());
      snapshot_order_.pop_front();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Impl: requests

namespace {

enum class Who { kAdmin, kUnprivileged, kAnonymous, kUnauthorized };

constexpr std::string_view kTokenReviewsPath = "/apis/authentication.k8s.io/v1/tokenreviews";

// A request path as the routes know it.
struct Route {
  enum Kind { kUnknown, kCollection, kObject, kBinding } kind = kUnknown;
  Resource resource = Resource::kPods;
  std::string namespace_name;
  std::string name;
};

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    out.push_back(url_decode(path.substr(0, slash)));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

Route route_of(std::string_view path) {
  const auto s = split_path(path);
  Route r;
  if (s.size() < 3 || s[0] != "api" || s[1] != "v1") {
    return r;
  }
  if (s.size() == 3 && (s[2] == "pods" || s[2] == "nodes")) {
    r.kind = Route::kCollection;
    r.resource = s[2] == "pods" ? Resource::kPods : Resource::kNodes;
  } else if (s.size() == 4 && s[2] == "nodes") {
    r.kind = Route::kObject;
    r.resource = Resource::kNodes;
    r.name = s[3];
  } else if (s.size() >= 5 && s[2] == "namespaces" && s[4] == "pods" && s.size() <= 7) {
    r.namespace_name = s[3];
    if (s.size() == 5) {
      r.kind = Route::kCollection;
    } else if (s.size() == 6) {
      r.kind = Route::kObject;
      r.name = s[5];
    } else if (s[6] == "binding") {
      r.kind = Route::kBinding;
      r.name = s[5];
    }
  }
  return r;
}

// RBAC's wording for a request alice (or system:anonymous) may not make (23 to 26).
Reply forbidden(const std::string& user, const Route& route, std::string_view verb,
                std::string_view method, std::string_view path) {
  std::string message;
  std::string details = "{}";
  if (route.kind == Route::kUnknown) {
    std::string lower(method);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    message =
        "forbidden: User \"" + user + "\" cannot " + lower + " path \"" + std::string(path) + "\"";
  } else {
    const std::string plural(plural_of(route.resource));
    const std::string resource = route.kind == Route::kBinding ? "pods/binding" : plural;
    message = plural + (route.name.empty() ? "" : " \"" + route.name + "\"") +
              " is forbidden: User \"" + user + "\" cannot " + std::string(verb) + " resource \"" +
              resource + "\" in API group \"\"" +
              (route.namespace_name.empty() ? std::string(" at the cluster scope")
                                            : " in the namespace \"" + route.namespace_name + "\"");
    details = details_json(route.name, plural);
  }
  Reply reply = status_reply(403, status_failure(403, "Forbidden", message, details));
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.privileged_flow = false;
  return reply;
}

Reply bad_request(std::string_view message) {
  return status_reply(400, status_failure(400, "BadRequest", message));
}

}  // namespace

Outcome ApiServerStandin::Impl::handle(const ApiRequest& request,
                                       const std::function<void()>& wake) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.requests;
  }
  const std::size_t question = request.target.find('?');
  const std::string path = request.target.substr(0, question);
  const Query query = question == std::string::npos
                          ? Query{}
                          : parse_query(std::string_view(request.target).substr(question + 1));

  // Authentication: a verified client certificate, else the bearer token.
  Who who = Who::kAnonymous;
  if (request.cert_verified) {
    who = Who::kAdmin;
  } else if (request.authorization.size() > 7 &&
             (request.authorization.compare(0, 7, "Bearer ") == 0 ||
              request.authorization.compare(0, 7, "bearer ") == 0)) {
    const std::string token = request.authorization.substr(7);
    who = token == options_.admin_token          ? Who::kAdmin
          : token == options_.unprivileged_token ? Who::kUnprivileged
                                                 : Who::kUnauthorized;
  }
  Outcome out;
  if (who == Who::kUnauthorized) {
    out.reply = status_reply(401, status_failure(401, "Unauthorized", "Unauthorized"));
    out.reply.flow_control_headers = false;
    return out;
  }

  if (path == kTokenReviewsPath) {
    if (who != Who::kAdmin) {
      const std::string user =
          who == Who::kUnprivileged ? options_.unprivileged_user : "system:anonymous";
      out.reply = status_reply(
          403, status_failure(403, "Forbidden",
                              "tokenreviews.authentication.k8s.io is forbidden: User \"" + user +
                                  "\" cannot create resource \"tokenreviews\" in API group "
                                  "\"authentication.k8s.io\" at the cluster scope",
                              R"({"group":"authentication.k8s.io","kind":"tokenreviews"})"));
      out.reply.privileged_flow = false;
      return out;
    }
    if (request.method != "POST") {
      out.reply = status_reply(
          405,
          status_failure(405, "MethodNotAllowed",
                         "the server does not allow this method on the requested resource", "{}"));
      return out;
    }
    return review_token(request.body);
  }
  const Route route = route_of(path);
  const bool is_get = request.method == "GET";
  const bool watch = route.kind == Route::kCollection && query_true(query, "watch");
  const std::string_view verb = route.kind == Route::kBinding  ? "create"
                                : route.kind == Route::kObject ? "get"
                                : watch                        ? "watch"
                                                               : "list";
  if (who != Who::kAdmin) {
    const std::string user =
        who == Who::kUnprivileged ? options_.unprivileged_user : "system:anonymous";
    out.reply = forbidden(user, route, verb, request.method, path);
    return out;
  }
  if (route.kind == Route::kUnknown) {
    out.reply = not_found_path();
    return out;
  }
  if (route.kind == Route::kBinding ? request.method != "POST" : !is_get) {
    out.reply = status_reply(
        405,
        status_failure(405, "MethodNotAllowed",
                       "the server does not allow this method on the requested resource", "{}"));
    return out;
  }
  if (route.kind == Route::kCollection) {
    std::lock_guard lock(mutex_);
    if (failing_reads_ > 0) {
      --failing_reads_;
      out.reply = injected_failure(failing_read_status_);
      return out;
    }
    if (!watch && list_delay_.count() > 0) {
      // Stalled: the request is read and nothing comes back until the delay is over.
      out.delay = list_delay_;
      out.deferred = [this, r = route.resource, ns = route.namespace_name, query] {
        return list(r, ns, query, false).reply;
      };
      return out;
    }
  }
  switch (route.kind) {
    case Route::kCollection:
      return watch ? this->watch(route.resource, route.namespace_name, query, wake)
                   : list(route.resource, route.namespace_name, query, true);
    case Route::kObject:
      return get(route.resource, route.namespace_name, route.name);
    case Route::kBinding:
      return bind(route.namespace_name, route.name, request.body);
    case Route::kUnknown:
      break;
  }
  out.reply = not_found_path();
  return out;
}

Outcome ApiServerStandin::Impl::list(Resource r, const std::string& ns, const Query& q,
                                     bool may_wait) {
  Outcome out;
  auto parsed = parse_field_selector(r, query_value(q, "fieldSelector"));
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    out.reply = bad_request(*error);
    return out;
  }
  Selector selector = std::get<Selector>(std::move(parsed));
  if (!ns.empty()) {
    selector.terms.push_back({"metadata.namespace", true, ns});
  }
  std::size_t limit = 0;
  if (const auto l = parse_number<std::int64_t>(query_value(q, "limit")); l && *l > 0) {
    limit = static_cast<std::size_t>(*l);
  }
  const std::string cont = query_value(q, "continue");
  const std::string rv_text = query_value(q, "resourceVersion");

  std::lock_guard lock(mutex_);
  ++counters_.lists;
  std::shared_ptr<const Snapshot> snapshot;
  std::optional<ContinueKey> after;
  if (!cont.empty()) {
    after = parse_continue(r, cont);
    if (!after) {
      out.reply = bad_request("continue key is not valid: " + cont);
      return out;
    }
    if (after->rv > 0) {
      auto it = snapshots_.find({r, static_cast<std::uint64_t>(after->rv)});
      if (it == snapshots_.end()) {
        // 27: the snapshot was compacted; a fresh token continues inconsistently (rv -1).
        const std::string fresh =
            continue_token(r, -1, {after->namespace_name, after->name, {}, nullptr}, false);
        out.reply = status_reply(
            410,
            status_failure(
                410, "Expired",
                "The provided continue parameter is too old to display a consistent list result. "
                "You can start a new list without the continue parameter, or use the continue "
                "token in this response to retrieve the remainder of the results. Continuing "
                "with the provided token results in an inconsistent list - objects that were "
                "created, modified, or deleted between the time the first chunk was returned "
                "and now may show up in the list.",
                "", "{\"continue\":\"" + fresh + "\"}"));
        return out;
      }
      snapshot = it->second;
    }
  } else if (!rv_text.empty() && rv_text != "0") {
    const auto rv = parse_number<std::uint64_t>(rv_text);
    if (!rv) {
      out.reply = bad_request("resourceVersion: Invalid value: \"" + rv_text +
                              "\": must be a non-negative integer");
      return out;
    }
    if (*rv > rv_) {
      if (may_wait) {
        // 40: the real server waits about 3 s for its cache to catch up, then gives up.
        out.delay = options_.too_large_rv_wait;
        out.deferred = [this, r, ns, q] { return list(r, ns, q, false).reply; };
        return out;
      }
      out.reply = status_reply(
          504,
          status_failure(
              504, "Timeout",
              "Timeout: Too large resource version: " + rv_text +
                  ", current: " + std::to_string(rv_),
              R"({"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1})"));
      out.reply.headers.emplace_back("Retry-After", "1");
      return out;
    }
    if (query_value(q, "resourceVersionMatch") == "Exact" && *rv < rv_) {
      auto it = snapshots_.find({r, *rv});
      if (it == snapshots_.end()) {
        out.reply = status_reply(
            410, status_failure(410, "Expired",
                                "The resourceVersion for the provided list is too old."));
        return out;
      }
      snapshot = it->second;
    }
  }
  if (!snapshot) {
    snapshot = current_snapshot(r);
  }

  const auto& items = snapshot->items;
  auto it = items.begin();
  if (after) {
    it = std::upper_bound(
        items.begin(), items.end(), *after, [](const ContinueKey& key, const SnapshotItem& item) {
          return std::tie(key.namespace_name, key.name) < std::tie(item.namespace_name, item.name);
        });
  }
  std::string body = "{\"kind\":\"" + std::string(kind_of(r)) +
                     "List\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"" +
                     std::to_string(snapshot->rv) + "\"";
  std::string page = "[";
  std::size_t taken = 0;
  const SnapshotItem* last = nullptr;
  std::size_t remaining = 0;
  for (; it != items.end(); ++it) {
    if (!selector.matches(r, it->fields)) {
      continue;
    }
    if (limit > 0 && taken == limit) {
      ++remaining;
      continue;
    }
    if (taken > 0) {
      page += ',';
    }
    page += *it->json;
    last = &*it;
    ++taken;
  }
  if (remaining > 0 && last != nullptr) {
    body += ",\"continue\":\"" +
            continue_token(r, static_cast<std::int64_t>(snapshot->rv), *last, true) + "\"";
    if (!selector.user_given) {
      body += ",\"remainingItemCount\":" + std::to_string(remaining);
    }
    remember(r, snapshot);
  }
  body += "},\"items\":" + page + "]}\n";
  out.reply.body = std::move(body);
  return out;
}

Outcome ApiServerStandin::Impl::watch(Resource r, const std::string& ns, const Query& q,
                                      const std::function<void()>& wake) {
  Outcome out;
  auto parsed = parse_field_selector(r, query_value(q, "fieldSelector"));
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    out.reply = bad_request(*error);
    return out;
  }
  auto feed = std::make_shared<WatchFeed>();
  feed->resource = r;
  feed->selector = std::get<Selector>(std::move(parsed));
  if (!ns.empty()) {
    feed->selector.terms.push_back({"metadata.namespace", true, ns});
  }
  feed->bookmarks = query_true(q, "allowWatchBookmarks");
  feed->wake = wake;
  const bool send_initial = query_true(q, "sendInitialEvents");
  if (send_initial && query_value(q, "resourceVersionMatch") != "NotOlderThan") {
    out.reply = status_reply(
        422,
        status_failure(
            422, "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            R"({"group":"meta.k8s.io","kind":"ListOptions","causes":[{"reason":"FieldValueForbidden","message":"Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan","field":"resourceVersionMatch"}]})"));
    return out;
  }
  out.watch_timeout = std::chrono::duration_cast<ms>(options_.default_watch_timeout);
  if (const auto t = parse_number<std::int64_t>(query_value(q, "timeoutSeconds")); t && *t > 0) {
    out.watch_timeout = std::chrono::seconds(*t);
  }
  const std::string rv_text = query_value(q, "resourceVersion");
  std::optional<std::uint64_t> start;
  if (!send_initial && !rv_text.empty() && rv_text != "0") {
    start = parse_number<std::uint64_t>(rv_text);
    if (!start) {
      out.reply = bad_request("resourceVersion: Invalid value: \"" + rv_text +
                              "\": must be a non-negative integer");
      return out;
    }
  }

  std::lock_guard lock(mutex_);
  ++counters_.watches;
  out.watch = feed;
  if (!start) {
    // 42: a synthetic ADDED for every object, packed into 2048-byte chunks, then (bookmarks
    // allowed) the initial-events-end bookmark; live events follow.
    feed->start_rv = rv_;
    std::string initial;
    const auto snapshot = current_snapshot(r);
    for (const SnapshotItem& item : snapshot->items) {
      if (feed->selector.matches(r, item.fields)) {
        initial += event_line("ADDED", typed(r, *item.json));
      }
    }
    if (feed->bookmarks) {
      initial += bookmark_line(r, rv_, true);
    }
    for (std::string& piece : split_chunks(initial, options_.initial_events_chunk_bytes)) {
      feed->chunks.push_back(std::move(piece));
    }
  } else if (*start < history_floor_) {
    // 41: HTTP 200, one ERROR event with the 410 Status, end of stream.
    feed->chunks.push_back(
        event_line("ERROR",
                   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                   "\"Failure\",\"message\":\"too old resource version: " +
                       rv_text + " (" + std::to_string(history_floor_) +
                       ")\",\"reason\":\"Expired\",\"code\":410}"));
    feed->ended = true;
    return out;
  } else {
    feed->start_rv = *start;
    for (const auto& e : history_) {
      if (e->resource == r && e->rv > *start) {
        const std::string_view type = seen_as(*feed, *e);
        if (!type.empty()) {
          feed->chunks.push_back(event_line(type, e->object));
        }
      }
    }
  }
  feeds_.push_back(feed);
  counters_.open_watches = feeds_.size();
  watches_changed_.notify_all();
  return out;
}

Outcome ApiServerStandin::Impl::get(Resource r, const std::string& ns, const std::string& name) {
  Outcome out;
  std::lock_guard lock(mutex_);
  ++counters_.gets;
  const std::string* json = nullptr;
  if (r == Resource::kPods) {
    if (auto it = pods_.find({ns, name}); it != pods_.end()) {
      json = it->second.json.get();
    }
  } else if (auto it = nodes_.find(name); it != nodes_.end()) {
    json = it->second.json.get();
  }
  if (json == nullptr) {
    const std::string plural(plural_of(r));
    out.reply =
        status_reply(404, status_failure(404, "NotFound", plural + " \"" + name + "\" not found",
                                         details_json(name, plural)));
    return out;
  }
  out.reply.body = typed(r, *json) + "\n";
  return out;
}

namespace {

std::string json_member_string(const json::object& o, std::string_view object,
                               std::string_view key) {
  const auto* inner = o.if_contains(object);
  if (inner == nullptr || !inner->is_object()) {
    return "";
  }
  const auto* value = inner->get_object().if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

}  // namespace

Outcome ApiServerStandin::Impl::bind(const std::string& ns, const std::string& name,
                                     const std::string& body) {
  Outcome out;
  {
    std::lock_guard lock(mutex_);
    ++counters_.binding_requests;
    if (failing_bindings_ > 0) {
      --failing_bindings_;
      out.reply = injected_failure(failing_status_);
      return out;
    }
  }
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    out.reply = bad_request("couldn't get version/kind; json parse error: " +
                            (ec ? ec.message() : std::string("not an object")));
    return out;
  }
  const json::object& o = v.get_object();
  if (json_member_string(o, "metadata", "name") != name) {
    out.reply = bad_request("name in URL does not match name in Binding object");
    return out;
  }
  const std::string body_ns = json_member_string(o, "metadata", "namespace");
  if (!body_ns.empty() && body_ns != ns) {
    out.reply = bad_request(
        "the namespace of the provided object does not match the namespace sent on the request");
    return out;
  }
  const std::string uid = json_member_string(o, "metadata", "uid");
  const std::string node = json_member_string(o, "target", "name");
  if (node.empty()) {
    out.reply = status_reply(
        422, status_failure(422, "Invalid",
                            "Binding \"" + name + "\" is invalid: target.name: Required value",
                            details_json(name, "Binding")));
    return out;
  }
  ms delay;
  {
    std::lock_guard lock(mutex_);
    delay = binding_delay_;
  }
  if (delay.count() > 0) {
    out.delay = delay;
    out.deferred = [this, ns, name, uid, node] { return apply_binding(ns, name, uid, node); };
    return out;
  }
  out.reply = apply_binding(ns, name, uid, node);
  return out;
}

Outcome ApiServerStandin::Impl::review_token(const std::string& body) {
  Outcome out;
  std::lock_guard lock(mutex_);
  ++counters_.token_reviews;
  auto reviewed = tokens_.review(body, std::chrono::system_clock::now());
  out.reply = reviewed ? status_reply(201, std::move(reviewed).value())
                       : bad_request(reviewed.error().message);
  return out;
}

Reply ApiServerStandin::Impl::apply_binding(const std::string& ns, const std::string& name,
                                            const std::string& uid, const std::string& node) {
  std::lock_guard lock(mutex_);
  auto it = pods_.find({ns, name});
  if (it == pods_.end()) {
    return status_reply(404, status_failure(404, "NotFound", "pods \"" + name + "\" not found",
                                            details_json(name, "pods")));
  }
  StoredPod& p = it->second;
  if (!uid.empty() && uid != p.uid) {
    return status_reply(
        409, status_failure(409, "Conflict",
                            "Operation cannot be fulfilled on pods \"" + name +
                                "\": StorageError: invalid object, Code: 4, Key: /registry/pods/" +
                                ns + "/" + name +
                                ", ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
                                "UID in precondition: " +
                                uid + ", UID in object meta: " + p.uid,
                            details_json(name, "pods")));
  }
  if (!p.deletion_timestamp.empty()) {
    return status_reply(
        409, status_failure(409, "Conflict",
                            "Operation cannot be fulfilled on pods/binding \"" + name + "\": pod " +
                                name + " is being deleted, cannot be assigned to a host",
                            details_json(name, "pods/binding")));
  }
  if (!p.spec.node_name.empty()) {
    return status_reply(
        409, status_failure(409, "Conflict",
                            "Operation cannot be fulfilled on pods/binding \"" + name + "\": pod " +
                                name + " is already assigned to node \"" + p.spec.node_name + "\"",
                            details_json(name, "pods/binding")));
  }
  const Fields before = p.fields();
  p.spec.node_name = node;
  p.scheduled_at = now_rfc3339();
  p.rv = next_rv();
  p.json = std::make_shared<const std::string>(render_pod(p));
  ++counters_.bindings;
  publish({Resource::kPods, "MODIFIED", p.rv, typed(Resource::kPods, *p.json), before, p.fields()});
  // Still under the lock: no watch stream can have drained the event yet. The observer is test
  // code; whatever it throws must not turn a done binding into a 500.
  if (binding_observer_) {
    try {
      binding_observer_({ns, name, p.uid, node, p.rv, p.requests});
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  }
  return status_reply(201,
                      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                      "\"Success\",\"code\":201}\n");
}

// ---------------------------------------------------------------------------------------------
// The public face

common::Result<std::unique_ptr<ApiServerStandin>> ApiServerStandin::start(Options options) {
  auto certificates = make_test_certificates(options.certificate_options);
  if (!certificates.ok()) {
    return certificates.error();
  }
  try {
    auto impl = std::make_unique<Impl>(std::move(options), std::move(certificates).value());
    auto opened = impl->open();
    if (!opened.ok()) {
      return opened.error();
    }
    return std::unique_ptr<ApiServerStandin>(new ApiServerStandin(std::move(impl)));
  } catch (const std::exception& e) {
    return common::Error{std::string("api server stand-in: ") + e.what()};
  }
}

ApiServerStandin::ApiServerStandin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServerStandin::~ApiServerStandin() = default;

std::uint16_t ApiServerStandin::port() const { return impl_->port_; }
std::string ApiServerStandin::url() const {
  return "https://127.0.0.1:" + std::to_string(impl_->port_);
}
const TestCertificates& ApiServerStandin::certificates() const { return impl_->certificates_; }
const ApiServerStandin::Options& ApiServerStandin::options() const { return impl_->options_; }

common::Result<std::monostate> ApiServerStandin::write_kubeconfig(const std::string& path,
                                                                  KubeconfigUser user) const {
  const auto& o = impl_->options_;
  const auto& c = impl_->certificates_;
  std::string credentials;
  switch (user) {
    case KubeconfigUser::kAdminToken:
      credentials = "    token: " + o.admin_token + "\n";
      break;
    case KubeconfigUser::kUnprivilegedToken:
      credentials = "    token: " + o.unprivileged_token + "\n";
      break;
    case KubeconfigUser::kClientCertificate:
      credentials = "    client-certificate-data: " + base64(c.client_cert_pem, false) +
                    "\n    client-key-data: " + base64(c.client_key_pem, false) + "\n";
      break;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: epc-standin\n  cluster:\n"
      << "    server: " << url()
      << "\n    certificate-authority-data: " << base64(c.ca_cert_pem, false)
      << "\nusers:\n- name: epc-standin-user\n  user:\n"
      << credentials << "contexts:\n- name: epc-standin\n  context:\n    cluster: epc-standin\n"
      << "    user: epc-standin-user\ncurrent-context: epc-standin\npreferences: {}\n";
  out.close();
  if (!out) {
    return common::Error{"api server stand-in: cannot write " + path};
  }
  return std::monostate{};
}

common::Result<std::string> ApiServerStandin::create_pod(const PodSpec& spec) {
  return impl_->create_pod(spec);
}

common::Result<std::monostate> ApiServerStandin::set_pod_phase(const std::string& ns,
                                                               const std::string& name,
                                                               const std::string& phase) {
  return impl_->modify_pod(ns, name, [&](StoredPod& p) {
    p.phase = phase;
    p.phase_patched_at = now_rfc3339();
  });
}

common::Result<std::monostate> ApiServerStandin::delete_pod(const std::string& ns,
                                                            const std::string& name) {
  return impl_->delete_pod(ns, name);
}

common::Result<std::monostate> ApiServerStandin::mark_pod_terminating(const std::string& ns,
                                                                      const std::string& name,
                                                                      std::int64_t grace_seconds) {
  return impl_->modify_pod(ns, name, [&](StoredPod& p) {
    p.deletion_timestamp =
        rfc3339(std::chrono::system_clock::now() + std::chrono::seconds(grace_seconds));
    p.deletion_grace_seconds = grace_seconds;
  });
}

common::Result<std::monostate> ApiServerStandin::add_node(const NodeSpec& spec) {
  return impl_->add_node(spec);
}

common::Result<std::monostate> ApiServerStandin::update_node_allocatable(
    const std::string& name, const std::map<std::string, std::string>& allocatable) {
  return impl_->modify_node(name, [&](StoredNode& n) {
    for (const auto& [resource, quantity] : allocatable) {
      n.allocatable[resource] = quantity;
    }
    n.allocatable_patched = allocatable;
    n.allocatable_patched_at = now_rfc3339();
  });
}

common::Result<std::monostate> ApiServerStandin::set_node_ready(const std::string& name,
                                                                const std::string& status) {
  return impl_->modify_node(name, [&](StoredNode& n) {
    if (n.spec.ready != status) {
      n.ready_since = now_rfc3339();
    }
    n.spec.ready = status;
  });
}

common::Result<std::monostate> ApiServerStandin::delete_node(const std::string& name) {
  return impl_->delete_node(name);
}

std::optional<std::string> ApiServerStandin::pod_node(const std::string& ns,
                                                      const std::string& name) const {
  std::lock_guard lock(impl_->mutex_);
  auto it = impl_->pods_.find({ns, name});
  if (it == impl_->pods_.end() || it->second.spec.node_name.empty()) {
    return std::nullopt;
  }
  return it->second.spec.node_name;
}

std::optional<PodView> ApiServerStandin::pod(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(impl_->mutex_);
  auto it = impl_->pods_.find({ns, name});
  if (it == impl_->pods_.end()) {
    return std::nullopt;
  }
  return impl_->view(it->second);
}

std::vector<PodView> ApiServerStandin::pods() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<PodView> out;
  out.reserve(impl_->pods_.size());
  for (const auto& [key, p] : impl_->pods_) {
    out.push_back(impl_->view(p));
  }
  return out;
}

std::uint64_t ApiServerStandin::resource_version() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->rv_;
}

std::string ApiServerStandin::issue_service_account_token(const ServiceAccountTokenSpec& spec) {
  std::lock_guard lock(impl_->mutex_);
  return impl_->tokens_.issue(spec, std::chrono::system_clock::now());
}

void ApiServerStandin::revoke_service_account_token(const std::string& token) {
  std::lock_guard lock(impl_->mutex_);
  impl_->tokens_.revoke(token);
}

ApiServerCounters ApiServerStandin::counters() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->counters_;
}

bool ApiServerStandin::wait_for_open_watches(std::size_t count, ms timeout) const {
  std::unique_lock lock(impl_->mutex_);
  return impl_->watches_changed_.wait_for(lock, timeout,
                                          [&] { return impl_->feeds_.size() >= count; });
}

void ApiServerStandin::drop_watches() {
  impl_->run_on_io([this] { impl_->close_sessions(true); });
}

void ApiServerStandin::restart() {
  {
    std::lock_guard lock(impl_->mutex_);
    impl_->history_.clear();
    impl_->history_floor_ = impl_->rv_;
    impl_->snapshots_.clear();
    impl_->snapshot_order_.clear();
  }
  drop_watches();
}

void ApiServerStandin::compact() {
  std::lock_guard lock(impl_->mutex_);
  impl_->snapshots_.clear();
  impl_->snapshot_order_.clear();
}

void ApiServerStandin::fail_next_bindings(std::size_t n, int http_status) {
  std::lock_guard lock(impl_->mutex_);
  impl_->failing_bindings_ = n;
  impl_->failing_status_ = http_status;
}

void ApiServerStandin::fail_next_reads(std::size_t n, int http_status) {
  std::lock_guard lock(impl_->mutex_);
  impl_->failing_reads_ = n;
  impl_->failing_read_status_ = http_status;
}

void ApiServerStandin::set_list_delay(ms delay) {
  std::lock_guard lock(impl_->mutex_);
  impl_->list_delay_ = delay;
}

void ApiServerStandin::set_binding_delay(ms delay) {
  std::lock_guard lock(impl_->mutex_);
  impl_->binding_delay_ = delay;
}

void ApiServerStandin::send_bookmarks() {
  std::lock_guard lock(impl_->mutex_);
  for (const auto& feed : impl_->feeds_) {
    if (feed->bookmarks) {
      feed->chunks.push_back(bookmark_line(feed->resource, impl_->rv_, false));
      feed->wake();
    }
  }
}

common::Result<std::monostate> ApiServerStandin::set_down(bool down) {
  common::Result<std::monostate> result = std::monostate{};
  impl_->run_on_io([&] {
    if (down == impl_->down_) {
      return;
    }
    if (down) {
      boost::system::error_code ec;
      impl_->acceptor_.close(ec);
      impl_->close_sessions(false);
      impl_->down_ = true;
    } else {
      result = impl_->listen();
      impl_->down_ = !result.ok();
    }
  });
  return result;
}

void ApiServerStandin::set_binding_observer(std::function<void(const BindingRecord&)> observer) {
  std::lock_guard lock(impl_->mutex_);
  impl_->binding_observer_ = std::move(observer);
}

}  // namespace epc::tools::standins
