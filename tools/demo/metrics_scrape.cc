#include "tools/demo/metrics_scrape.h"

#include <cmath>
#include <cstdlib>

namespace epc::tools::demo {

namespace {

// Reads `label="value",...}` starting after '{'; returns false on malformed input.
bool parse_labels(std::string_view& rest, std::map<std::string, std::string>& labels) {
  while (!rest.empty() && rest.front() != '}') {
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos || eq + 1 >= rest.size() || rest[eq + 1] != '"') {
      return false;
    }
    std::string key(rest.substr(0, eq));
    rest.remove_prefix(eq + 2);
    std::string value;
    while (!rest.empty() && rest.front() != '"') {
      if (rest.front() == '\\' && rest.size() > 1) {
        rest.remove_prefix(1);
        value += rest.front() == 'n' ? '\n' : rest.front();
      } else {
        value += rest.front();
      }
      rest.remove_prefix(1);
    }
    if (rest.empty()) {
      return false;
    }
    rest.remove_prefix(1);  // closing quote
    labels.emplace(std::move(key), std::move(value));
    if (!rest.empty() && rest.front() == ',') {
      rest.remove_prefix(1);
    }
  }
  if (rest.empty()) {
    return false;
  }
  rest.remove_prefix(1);  // '}'
  return true;
}

std::optional<double> parse_value(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  const auto end = text.find(' ');  // an optional timestamp follows
  const std::string number(text.substr(0, end));
  if (number == "+Inf") {
    return HUGE_VAL;
  }
  if (number == "-Inf") {
    return -HUGE_VAL;
  }
  if (number == "NaN") {
    return std::nan("");
  }
  char* parsed_end = nullptr;
  const double value = std::strtod(number.c_str(), &parsed_end);
  if (number.empty() || parsed_end != number.c_str() + number.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::vector<MetricSample> parse_metrics(std::string_view text) {
  std::vector<MetricSample> samples;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    MetricSample sample;
    sample.line = line;
    const auto name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) {
      continue;
    }
    sample.name = line.substr(0, name_end);
    std::string_view rest = line.substr(name_end);
    if (rest.front() == '{') {
      rest.remove_prefix(1);
      if (!parse_labels(rest, sample.labels)) {
        continue;
      }
    }
    const auto value = parse_value(rest);
    if (!value) {
      continue;
    }
    sample.value = *value;
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<MetricSample> find_sample(const std::vector<MetricSample>& samples,
                                        std::string_view name,
                                        const std::map<std::string, std::string>& labels) {
  for (const MetricSample& sample : samples) {
    if (sample.name != name) {
      continue;
    }
    bool all = true;
    for (const auto& [key, value] : labels) {
      auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) {
        all = false;
        break;
      }
    }
    if (all) {
      return sample;
    }
  }
  return std::nullopt;
}

}  // namespace epc::tools::demo
