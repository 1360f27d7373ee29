#include "tools/epcctl/capacity_command.h"

#include <cstdio>
#include <string_view>

#include <boost/json.hpp>

#include "common/byte_format.h"

namespace epc::tools::epcctl {

namespace {

namespace json = boost::json;

std::string line(const char* format, auto... values) {
  char text[256];
  std::snprintf(text, sizeof text, format, values...);
  return text;
}

}  // namespace

common::Result<std::string> capacity_report(http_client::HttpClient& client,
                                            const EpcctlOptions& options) {
  std::string out = line("%-24s %15s %10s %14s\n", "shape (EPC, enclaves)", "pods that fit",
                         "on nodes", "stranded EPC");
  json::value last;
  for (const std::int64_t epc : options.epc_bytes) {
    const std::string shape =
        common::quantity_string(epc) + ", " + std::to_string(options.enclaves);
    const std::string target = "/capacity?epc=" + common::quantity_string(epc) +
                               "&enclaves=" + std::to_string(options.enclaves) +
                               "&provision=" + std::to_string(options.provision);
    auto reply = client.get(target);
    if (!reply.ok()) {
      return common::Error{"asking the extender at " + options.host + ":" +
                           std::to_string(options.port) + ": " + reply.error().message};
    }
    boost::system::error_code ec;
    json::value answer = json::parse(reply->body, ec);
    if (ec || !answer.is_object()) {
      return common::Error{"shape " + shape + ": the extender answered HTTP " +
                           std::to_string(reply->status) + " with something that is not JSON"};
    }
    const json::object& object = answer.as_object();
    if (reply->status != 200) {
      const json::value* error = object.if_contains("error");
      return common::Error{"shape " + shape + ": the extender refused: " +
                           (error != nullptr && error->is_string()
                                ? std::string(error->as_string())
                                : "HTTP " + std::to_string(reply->status))};
    }
    const json::value* pods = object.if_contains("pods");
    const json::value* nodes = object.if_contains("nodesWithRoom");
    const json::value* stranded = object.if_contains("strandedEpcBytes");
    if (pods == nullptr || !pods->is_int64() || nodes == nullptr || !nodes->is_int64() ||
        stranded == nullptr || !stranded->is_int64()) {
      return common::Error{"shape " + shape +
                           ": the reply lacks pods, nodesWithRoom or "
                           "strandedEpcBytes (an extender older than /capacity?)"};
    }
    out += line("%-24s %15lld %10lld %14s\n", shape.c_str(),
                static_cast<long long>(pods->as_int64()), static_cast<long long>(nodes->as_int64()),
                common::format_bytes(stranded->as_int64()).c_str());
    last = std::move(answer);
  }
  if (options.epc_bytes.size() == 1 && options.top_nodes > 0) {
    const json::value* nodes = last.as_object().if_contains("nodes");
    if (nodes != nullptr && nodes->is_array() && !nodes->as_array().empty()) {
      out += line("\n%-32s %10s %12s\n", "node", "pods", "free EPC");
      std::size_t listed = 0;
      for (const json::value& node : nodes->as_array()) {
        if (listed++ == options.top_nodes || !node.is_object()) {
          break;
        }
        const json::object& entry = node.as_object();
        const json::value* name = entry.if_contains("node");
        const json::value* count = entry.if_contains("pods");
        const json::value* free = entry.if_contains("freeEpcBytes");
        if (name == nullptr || !name->is_string() || count == nullptr || !count->is_int64() ||
            free == nullptr || !free->is_int64()) {
          return common::Error{"the reply's node list is malformed"};
        }
        out += line("%-32s %10lld %12s\n", std::string(name->as_string()).c_str(),
                    static_cast<long long>(count->as_int64()),
                    common::format_bytes(free->as_int64()).c_str());
      }
      const std::size_t total = nodes->as_array().size();
      if (total > options.top_nodes) {
        out += line("(%zu more nodes with room)\n", total - options.top_nodes);
      }
    }
  }
  return out;
}

}  // namespace epc::tools::epcctl
