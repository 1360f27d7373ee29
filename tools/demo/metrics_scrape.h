#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epc::tools::demo {

// One sample line of the Prometheus text exposition format: name{labels} value.
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string line;  // as scraped, for showing to a person
};

// Parses the sample lines of a /metrics page; comments and lines that do not parse are skipped
// (a scrape for a demo, not a validating parser).
std::vector<MetricSample> parse_metrics(std::string_view text);

// The sample called `name` whose labels include every pair in `labels`.
std::optional<MetricSample> find_sample(const std::vector<MetricSample>& samples,
                                        std::string_view name,
                                        const std::map<std::string, std::string>& labels);

}  // namespace epc::tools::demo
