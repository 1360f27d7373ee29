#include "tools/demo/scheduler_player.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <boost/json.hpp>

#include "tools/demo/pod_json.h"

namespace epc::tools::demo {

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Go's decoder: an exact key match first, then a case-insensitive one.
const json::value* field(const json::object& object, std::string_view key) {
  if (auto it = object.find(key); it != object.end()) {
    return &it->value();
  }
  for (const auto& entry : object) {
    if (iequals(entry.key(), key)) {
      return &entry.value();
    }
  }
  return nullptr;
}

common::Result<NodeReasons> reasons(const json::object& reply, std::string_view key) {
  NodeReasons out;
  const json::value* value = field(reply, key);
  if (value == nullptr || value->is_null()) {
    return out;
  }
  if (!value->is_object()) {
    return common::Error{std::string(key) + " is not an object"};
  }
  for (const auto& entry : value->get_object()) {
    if (!entry.value().is_string()) {
      return common::Error{std::string(key) + "[" + std::string(entry.key()) + "] is not a string"};
    }
    out.emplace(entry.key(), entry.value().get_string());
  }
  return out;
}

}  // namespace

SchedulerPlayer::SchedulerPlayer(http_client::HttpClient& http, NodeFleet& fleet, Options options)
    : http_(http),
      fleet_(fleet),
      options_(std::move(options)),
      node_names_(fleet.node_names()),
      tie_breaker_(options_.seed) {
  while (!options_.url_prefix.empty() && options_.url_prefix.back() == '/') {
    options_.url_prefix.pop_back();  // kube-scheduler trims trailing slashes off urlPrefix
  }
}

std::string SchedulerPlayer::url(const char* verb) const {
  return options_.url_prefix + "/" + verb;
}

common::Result<std::vector<std::string>> SchedulerPlayer::filter(const std::string& body,
                                                                 Decision& decision) {
  const auto start = Clock::now();
  auto response = http_.post(url("filter"), body);
  decision.filter_time = since(start);
  if (!response) {
    return response.error();
  }
  std::vector<std::string> survivors;
  if (response->status != 200) {
    decision.extender_error = true;
    decision.message = "failed filter with extender at URL " + url("filter") + ", code " +
                       std::to_string(response->status);
    return survivors;
  }
  json::error_code ec;
  const json::value parsed = json::parse(response->body, ec);
  if (ec || !parsed.is_object()) {
    decision.extender_error = true;
    decision.message = "filter reply is not a JSON object: " + response->body.substr(0, 200);
    return survivors;
  }
  const json::object& reply = parsed.get_object();
  if (const json::value* error = field(reply, "Error");
      error != nullptr && error->is_string() && !error->get_string().empty()) {
    decision.extender_error = true;
    decision.message = "extender error: " + std::string(error->get_string());
    return survivors;
  }
  auto failed = reasons(reply, "FailedNodes");
  auto unresolvable = reasons(reply, "FailedAndUnresolvableNodes");
  if (!failed || !unresolvable) {
    decision.extender_error = true;
    decision.message =
        "bad filter reply: " + (failed ? unresolvable.error() : failed.error()).message;
    return survivors;
  }
  decision.failed = std::move(failed.value());
  decision.failed_unresolvable = std::move(unresolvable.value());
  // Cache mode: NodeNames must be a subset of what was sent; null means nothing passed.
  if (const json::value* names = field(reply, "NodeNames"); names != nullptr && names->is_array()) {
    const std::set<std::string_view> sent(node_names_.begin(), node_names_.end());
    for (const json::value& name : names->get_array()) {
      if (!name.is_string() || !sent.contains(name.get_string())) {
        decision.extender_error = true;
        decision.message = "extender claims a filtered node " + json::serialize(name) +
                           " which is not found in the input node list";
        return std::vector<std::string>{};
      }
      survivors.emplace_back(name.get_string());
    }
  }
  return survivors;
}

common::Result<std::vector<std::int64_t>> SchedulerPlayer::prioritize(
    const std::string& body, const std::vector<std::string>& survivors, Decision& decision) {
  std::vector<std::int64_t> scores(survivors.size(), 0);
  const auto start = Clock::now();
  auto response = http_.post(url("prioritize"), body);
  decision.prioritize_time = since(start);
  if (!response) {
    return response.error();
  }
  if (response->status != 200) {
    decision.prioritize_error = "code " + std::to_string(response->status);
    return scores;
  }
  json::error_code ec;
  const json::value parsed = json::parse(response->body, ec);
  if (ec || !parsed.is_array()) {
    decision.prioritize_error = "reply is not a JSON array";
    return scores;
  }
  for (const json::value& entry : parsed.get_array()) {
    const json::value* host = entry.is_object() ? field(entry.get_object(), "Host") : nullptr;
    const json::value* score = entry.is_object() ? field(entry.get_object(), "Score") : nullptr;
    // Go decodes Score into int64: a fraction or exponent is an error there too.
    if (host == nullptr || !host->is_string() || score == nullptr || !score->is_int64()) {
      decision.prioritize_error = "bad entry " + json::serialize(entry);
      return std::vector<std::int64_t>(survivors.size(), 0);
    }
    const auto it = std::find(survivors.begin(), survivors.end(), host->get_string());
    if (it != survivors.end()) {
      scores[static_cast<std::size_t>(it - survivors.begin())] += score->get_int64();
    }
  }
  return scores;
}

common::Result<Decision> SchedulerPlayer::schedule(const DemoPod& pod) {
  Decision decision;
  decision.pod = pod;
  const PodServerFields server{rfc3339_now(), std::to_string(resource_version_++)};

  auto survivors = filter(extender_args_json(pod, server, node_names_), decision);
  if (!survivors) {
    return survivors.error();
  }
  decision.feasible_nodes = survivors->size();
  if (survivors->empty()) {
    if (decision.message.empty()) {
      decision.message = failed_scheduling_message(static_cast<int>(node_names_.size()),
                                                   decision.failed, decision.failed_unresolvable);
    }
    return decision;
  }

  std::size_t chosen = 0;
  if (survivors->size() > 1) {
    auto scores = prioritize(extender_args_json(pod, server, *survivors), *survivors, decision);
    if (!scores) {
      return scores.error();
    }
    // selectHost: the highest score; among equals each is equally likely (reservoir sampling).
    std::uint64_t ties = 0;
    for (std::size_t i = 0; i < scores->size(); ++i) {
      if (i == 0 || (*scores)[i] > (*scores)[chosen]) {
        chosen = i;
        ties = 1;
      } else if ((*scores)[i] == (*scores)[chosen]) {
        ++ties;
        if (tie_breaker_() % ties == 0) {
          chosen = i;
        }
      }
    }
    decision.score = (*scores)[chosen];
    for (std::size_t i = 0; i < scores->size(); ++i) {
      if (i != chosen && (decision.runner_up.empty() || (*scores)[i] > decision.runner_up_score)) {
        decision.runner_up = (*survivors)[i];
        decision.runner_up_score = (*scores)[i];
      }
    }
  }

  decision.node = (*survivors)[chosen];
  const auto start = Clock::now();
  auto placed = fleet_.place(decision.node, pod);
  decision.report_time = since(start);
  if (!placed) {
    return placed.error();
  }
  decision.placed = true;
  return decision;
}

}  // namespace epc::tools::demo
