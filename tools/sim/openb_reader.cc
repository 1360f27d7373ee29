#include "tools/sim/openb_reader.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <fstream>
#include <istream>
#include <limits>
#include <unordered_map>
#include <utility>

#include "tools/sim/csv_line.h"

namespace epc::tools::sim {

namespace {

constexpr std::int64_t kMiB = std::int64_t{1} << 20;
constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();

// ---------------------------------------------------------------------------------------------
// Columns by header name.

struct Column {
  std::string_view name;
  bool required;
};

// A CSV source read row by row, with its columns located by header name. Columns the reader does
// not know (gpu, model, qos, ...) are skipped.
class OpenbTable {
 public:
  OpenbTable(std::istream& in, std::string_view source) : in_(in), source_(source) {}

  // Reads the header and locates `columns`; afterwards `field(i)` reads columns[i] of each row.
  std::string read_header(const std::vector<Column>& columns) {
    if (!next_line()) {
      return std::string(source_) + ": empty input, expected a header line";
    }
    const std::string_view header = header_line(line_);
    split_csv_line(header, fields_);
    width_ = fields_.size();
    index_.assign(columns.size(), kAbsent);
    names_.clear();
    for (std::size_t c = 0; c < columns.size(); ++c) {
      for (std::size_t f = 0; f < fields_.size(); ++f) {
        if (fields_[f] != columns[c].name) {
          continue;
        }
        if (index_[c] != kAbsent) {
          return location() + ": column \"" + std::string(columns[c].name) +
                 "\" appears twice in the header";
        }
        index_[c] = f;
      }
      names_.push_back(columns[c].name);
      if (columns[c].required && index_[c] == kAbsent) {
        return location() + ": the header has no column \"" + std::string(columns[c].name) +
               "\" (header: " + std::string(header) + ")";
      }
    }
    return {};
  }

  // Advances to the next non-blank row. False at the end of input or on an error (see `error()`).
  bool next_row() {
    while (next_line()) {
      if (trim_cell(line_).empty()) {
        continue;
      }
      split_csv_line(line_, fields_);
      if (fields_.size() != width_) {
        error_ = location() + ": " + std::to_string(fields_.size()) +
                 " fields, but the header has " + std::to_string(width_);
        return false;
      }
      return true;
    }
    if (in_.bad()) {
      error_ = location() + ": read error";
    }
    return false;
  }

  const std::string& error() const { return error_; }
  std::int64_t line_number() const { return line_number_; }

  // The value of column `column` in the current row ("" for an absent optional column).
  std::string_view field(std::size_t column) const {
    return index_[column] == kAbsent ? std::string_view() : fields_[index_[column]];
  }

  // "source:line"
  std::string location() const { return std::string(source_) + ":" + std::to_string(line_number_); }

  // Parses column `column` of the current row as an integer in [0, max]; "" on success.
  std::string parse(std::size_t column, std::int64_t max, std::int64_t& out) const {
    const std::string name(names_[column]);
    const std::string_view text = field(column);
    if (text.empty()) {
      return location() + ": column \"" + name + "\" is empty";
    }
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict, its bug 105329) about
    // `"\"" + std::string(text)`.
    std::string why = "\"";
    why += text;
    why += '"';
    if (ec == std::errc::result_out_of_range) {
      why += " does not fit in 64 bits";
    } else if (ec != std::errc() || ptr != end) {
      why += " is not an integer";
    } else if (value < 0) {
      why += " is negative";
    } else if (value > max) {
      why += " is above the limit " + std::to_string(max);
    } else {
      out = value;
      return {};
    }
    return location() + ": column \"" + name + "\": " + why;
  }

 private:
  bool next_line() {
    if (!std::getline(in_, line_)) {
      return false;
    }
    ++line_number_;
    return true;
  }

  std::istream& in_;
  std::string_view source_;
  std::string line_;
  std::vector<std::string_view> fields_;
  std::vector<std::size_t> index_;
  std::vector<std::string_view> names_;  // the columns' names, for messages
  std::size_t width_ = 0;
  std::int64_t line_number_ = 0;
  std::string error_;
};

std::string check_mapping(const OpenbMapping& m) {
  if (m.node_epc_divisor <= 0 || m.pod_epc_divisor <= 0) {
    return "openb mapping: the EPC divisors must be > 0";
  }
  if (m.pod_min_epc_mib < 0 || m.pod_min_epc_mib > kOpenbMaxMemoryMib) {
    return "openb mapping: pod_min_epc_mib must be in 0.." + std::to_string(kOpenbMaxMemoryMib);
  }
  if (m.node_enclave_slots < 0 || m.node_max_pods < 0 || m.pod_enclave_slots < 0) {
    return "openb mapping: slot and pod counts must be >= 0";
  }
  return {};
}

template <typename T, typename Reader>
common::Result<std::vector<T>> read_file(const std::string& path, const OpenbMapping& mapping,
                                         Reader reader) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return common::Error{"cannot open openb trace file \"" + path + "\""};
  }
  return reader(file, mapping, path);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Nodes.

common::Result<std::vector<SimNode>> read_openb_nodes(std::istream& in, const OpenbMapping& mapping,
                                                      std::string_view source) {
  if (auto bad = check_mapping(mapping); !bad.empty()) {
    return common::Error{std::move(bad)};
  }
  enum : std::size_t { kSn, kCpuMilli, kMemoryMib };
  OpenbTable table(in, source);
  if (auto bad = table.read_header({{"sn", true}, {"cpu_milli", true}, {"memory_mib", true}});
      !bad.empty()) {
    return common::Error{std::move(bad)};
  }
  std::vector<SimNode> nodes;
  std::unordered_map<std::string, std::int64_t>
      line_of_name;  // duplicates would alias in the engine
  while (table.next_row()) {
    SimNode node;
    node.name = std::string(table.field(kSn));
    if (node.name.empty()) {
      return common::Error{table.location() + ": column \"sn\" is empty"};
    }
    std::int64_t memory_mib = 0;
    for (auto bad : {table.parse(kCpuMilli, kOpenbMaxCpuMilli, node.cpu_milli),
                     table.parse(kMemoryMib, kOpenbMaxMemoryMib, memory_mib)}) {
      if (!bad.empty()) {
        return common::Error{std::move(bad)};
      }
    }
    node.memory_bytes = memory_mib * kMiB;
    node.epc_bytes = memory_mib / mapping.node_epc_divisor * kMiB;
    node.enclave_slots = mapping.node_enclave_slots;
    node.max_pods = mapping.node_max_pods;
    if (auto [it, inserted] = line_of_name.emplace(node.name, table.line_number()); !inserted) {
      return common::Error{table.location() + ": node \"" + node.name +
                           "\" was already listed on line " + std::to_string(it->second)};
    }
    nodes.push_back(std::move(node));
  }
  if (!table.error().empty()) {
    return common::Error{table.error()};
  }
  if (nodes.empty()) {
    return common::Error{std::string(source) + ": no node rows"};
  }
  return nodes;
}

common::Result<std::vector<SimNode>> read_openb_nodes(const std::string& path,
                                                      const OpenbMapping& mapping) {
  return read_file<SimNode>(path, mapping,
                            [](std::istream& in, const OpenbMapping& m, const std::string& p) {
                              return read_openb_nodes(in, m, p);
                            });
}

// ---------------------------------------------------------------------------------------------
// Pods.

common::Result<std::vector<SimPod>> read_openb_pods(std::istream& in, const OpenbMapping& mapping,
                                                    std::string_view source) {
  if (auto bad = check_mapping(mapping); !bad.empty()) {
    return common::Error{std::move(bad)};
  }
  enum : std::size_t { kName, kCpuMilli, kMemoryMib, kCreation, kDeletion };
  OpenbTable table(in, source);
  if (auto bad = table.read_header({{"name", true},
                                    {"cpu_milli", true},
                                    {"memory_mib", true},
                                    {"creation_time", false},
                                    {"deletion_time", false}});
      !bad.empty()) {
    return common::Error{std::move(bad)};
  }
  constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();
  std::vector<SimPod> pods;
  while (table.next_row()) {
    SimPod pod;
    pod.name = std::string(table.field(kName));
    if (pod.name.empty()) {
      return common::Error{table.location() + ": column \"name\" is empty"};
    }
    std::int64_t memory_mib = 0;
    for (auto bad : {table.parse(kCpuMilli, kOpenbMaxCpuMilli, pod.cpu_milli),
                     table.parse(kMemoryMib, kOpenbMaxMemoryMib, memory_mib)}) {
      if (!bad.empty()) {
        return common::Error{std::move(bad)};
      }
    }
    pod.memory_bytes = memory_mib * kMiB;
    pod.epc_bytes = std::max(memory_mib / mapping.pod_epc_divisor, mapping.pod_min_epc_mib) * kMiB;
    pod.enclave_slots = mapping.pod_enclave_slots;

    // Either time may be missing (the pod never ended, or the trace has no times). A given time
    // must still be valid. Both are non-negative, so their difference cannot overflow.
    std::int64_t created = -1;
    std::int64_t deleted = -1;
    if (!table.field(kCreation).empty()) {
      if (auto bad = table.parse(kCreation, kMaxTime, created); !bad.empty()) {
        return common::Error{std::move(bad)};
      }
    }
    if (!table.field(kDeletion).empty()) {
      if (auto bad = table.parse(kDeletion, kMaxTime, deleted); !bad.empty()) {
        return common::Error{std::move(bad)};
      }
    }
    if (created >= 0 && deleted >= created) {
      pod.lifetime_s = deleted - created;
    }
    pods.push_back(std::move(pod));
  }
  if (!table.error().empty()) {
    return common::Error{table.error()};
  }
  if (pods.empty()) {
    return common::Error{std::string(source) + ": no pod rows"};
  }
  return pods;
}

common::Result<std::vector<SimPod>> read_openb_pods(const std::string& path,
                                                    const OpenbMapping& mapping) {
  return read_file<SimPod>(path, mapping,
                           [](std::istream& in, const OpenbMapping& m, const std::string& p) {
                             return read_openb_pods(in, m, p);
                           });
}

}  // namespace epc::tools::sim
