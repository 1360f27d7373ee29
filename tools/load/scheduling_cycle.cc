#include "tools/load/scheduling_cycle.h"

#include <chrono>

#include <simdjson.h>

#include "tools/load/scheduler_request.h"

namespace epc::tools::load {

namespace {

namespace ondemand = simdjson::ondemand;

static_assert(SchedulerClient::kBodyPaddingBytes >= simdjson::SIMDJSON_PADDING,
              "simdjson reads the reply in place: the client must leave its padding after it");

common::Error error(std::string message) { return common::Error{std::move(message)}; }

std::string excerpt(std::string_view body) {
  constexpr std::size_t kMaxEcho = 200;
  return std::string(body.substr(0, kMaxEcho)) + (body.size() > kMaxEcho ? "..." : "");
}

simdjson::padded_string_view padded(std::string_view body) {
  return simdjson::padded_string_view(body.data(), body.size(),
                                      body.size() + SchedulerClient::kBodyPaddingBytes);
}

// The number of entries of a FailedNodes-like map (null counts 0).
simdjson::error_code count_map(ondemand::value value, std::size_t& count) {
  bool is_null = false;
  if (auto e = value.is_null().get(is_null)) {
    return e;
  }
  if (is_null) {
    return simdjson::SUCCESS;
  }
  ondemand::object map;
  if (auto e = value.get_object().get(map)) {
    return e;
  }
  std::size_t fields = 0;
  if (auto e = map.count_fields().get(fields)) {
    return e;
  }
  count += fields;
  return simdjson::SUCCESS;
}

// ExtenderFilterResult: reads NodeNames (appending each, quoted, to `names_out`), counts the
// failed maps, and takes Error. Unknown keys are skipped, as Go's decoder does.
simdjson::error_code read_filter_reply(ondemand::parser& parser, std::string_view body,
                                       CycleRecord& record, std::string& names_out,
                                       std::string& error_text) {
  ondemand::document doc;
  if (auto e = parser.iterate(padded(body)).get(doc)) {
    return e;
  }
  ondemand::object object;
  if (auto e = doc.get_object().get(object)) {
    return e;
  }
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) {
      return e;
    }
    ondemand::value value;
    if (auto e = field.value().get(value)) {
      return e;
    }
    if (key == "NodeNames") {
      bool is_null = false;
      if (auto e = value.is_null().get(is_null)) {
        return e;
      }
      if (is_null) {
        continue;
      }
      ondemand::array names;
      if (auto e = value.get_array().get(names)) {
        return e;
      }
      for (auto element : names) {
        std::string_view name;
        if (auto e = element.get_string().get(name)) {
          return e;
        }
        names_out.append(record.nodes_kept == 0 ? "\"" : ",\"");
        append_json_string_content(names_out, name);
        names_out.push_back('"');
        ++record.nodes_kept;
      }
    } else if (key == "FailedNodes" || key == "FailedAndUnresolvableNodes") {
      if (auto e = count_map(value, record.nodes_failed)) {
        return e;
      }
    } else if (key == "Error") {
      bool is_null = false;
      if (auto e = value.is_null().get(is_null)) {
        return e;
      }
      std::string_view text;
      if (!is_null) {
        if (auto e = value.get_string().get(text)) {
          return e;
        }
      }
      error_text.assign(text);
    }
  }
  return simdjson::SUCCESS;
}

// HostPriorityList: counts the entries, each an object with a Host.
simdjson::error_code read_prioritize_reply(ondemand::parser& parser, std::string_view body,
                                           std::size_t& scored) {
  ondemand::document doc;
  if (auto e = parser.iterate(padded(body)).get(doc)) {
    return e;
  }
  ondemand::array list;
  if (auto e = doc.get_array().get(list)) {
    return e;
  }
  for (auto element : list) {
    ondemand::object entry;
    if (auto e = element.get_object().get(entry)) {
      return e;
    }
    std::string_view host;
    if (auto e = entry.find_field_unordered("Host").get_string().get(host)) {
      return e;
    }
    ++scored;
  }
  return simdjson::SUCCESS;
}

}  // namespace

struct SchedulingCycle::Parser {
  ondemand::parser parser;
};

SchedulingCycle::SchedulingCycle(SchedulerClient& client, std::string url_prefix, bool prioritize)
    : client_(client),
      filter_path_(url_prefix + "/filter"),
      prioritize_path_(url_prefix + "/prioritize"),
      prioritize_(prioritize),
      parser_(std::make_unique<Parser>()) {}

SchedulingCycle::~SchedulingCycle() = default;

common::Result<CycleRecord> SchedulingCycle::run(std::string_view pod_json,
                                                 std::string_view names_json,
                                                 std::size_t names_count) {
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point from) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - from).count();
  };
  cache_mode_args(pod_json, names_json, filter_body_);
  CycleRecord record;
  record.names_sent = names_count;
  failure_ = {};
  const auto fail = [this](CycleFailureKind kind, int requests_sent, std::string message,
                           unsigned status = 0) {
    failure_ = {kind, status, requests_sent};
    return error(std::move(message));
  };
  const WireCounters before = client_.counters();
  const Clock::time_point start = Clock::now();
  record.started = start;

  auto filter = client_.post(filter_path_, filter_body_);
  if (!filter.ok()) {
    return fail(CycleFailureKind::kTransport, 1,
                "POST " + filter_path_ + ": " + filter.error().message);
  }
  if (filter->status != 200) {
    return fail(CycleFailureKind::kStatus, 1,
                "POST " + filter_path_ + ": HTTP " + std::to_string(filter->status) + ": " +
                    excerpt(filter->body),
                filter->status);
  }
  if (capture_) {
    last_filter_reply_.assign(filter->body);
  }
  // The prioritize request is written while the filter reply is read: its names are the reply's.
  prioritize_body_.clear();
  prioritize_body_.append(R"({"Pod":)").append(pod_json).append(R"(,"Nodes":null,"NodeNames":[)");
  std::string error_text;
  if (auto e =
          read_filter_reply(parser_->parser, filter->body, record, prioritize_body_, error_text)) {
    return fail(CycleFailureKind::kMalformed, 1,
                "POST " + filter_path_ + ": reply is not an ExtenderFilterResult (" +
                    simdjson::error_message(e) + "): " + excerpt(filter->body));
  }
  if (!error_text.empty()) {
    return fail(CycleFailureKind::kErrorField, 1,
                "POST " + filter_path_ + ": the extender answered Error \"" + error_text + "\"");
  }
  record.filter_ns = since(start);
  prioritize_body_.append("]}");
  if (prioritize_all_names_) {
    cache_mode_args(pod_json, names_json, prioritize_body_);
  }

  if (prioritize_ && record.nodes_kept > 1) {
    const Clock::time_point prioritize_start = Clock::now();
    auto scores = client_.post(prioritize_path_, prioritize_body_);
    if (!scores.ok()) {
      return fail(CycleFailureKind::kTransport, 2,
                  "POST " + prioritize_path_ + ": " + scores.error().message);
    }
    if (scores->status != 200) {
      return fail(CycleFailureKind::kStatus, 2,
                  "POST " + prioritize_path_ + ": HTTP " + std::to_string(scores->status) + ": " +
                      excerpt(scores->body),
                  scores->status);
    }
    if (capture_) {
      last_prioritize_reply_.assign(scores->body);
    }
    if (auto e = read_prioritize_reply(parser_->parser, scores->body, record.nodes_scored)) {
      return fail(CycleFailureKind::kMalformed, 2,
                  "POST " + prioritize_path_ + ": reply is not a HostPriorityList (" +
                      simdjson::error_message(e) + "): " + excerpt(scores->body));
    }
    record.prioritize_ns = since(prioritize_start);
    record.prioritized = true;
  }
  record.latency_ns = since(start);
  record.wire = client_.counters() - before;
  return record;
}

}  // namespace epc::tools::load
