#include "tools/sim/generic_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/quantity.h"
#include "common/value_parsers.h"
#include "tools/sim/csv_line.h"

namespace epc::tools::sim {

namespace {

constexpr std::int64_t kDefaultNodeEnclaveSlots = 110;
constexpr std::int64_t kDefaultMaxPods = 110;  // kubelet's default maxPods
constexpr std::int64_t kDefaultPodEnclaveSlots = 1;

// ---------------------------------------------------------------------------------------------
// The keys, shared by both syntaxes.

enum Field : std::size_t {
  kName,
  kCount,
  kCpu,
  kMemory,
  kEpc,
  kEnclaveSlots,
  kMaxPods,
  kLifetime,
  kEpcUsed,
  kEnclaveSlotsUsed,
  kPodsUsed,
  kFieldCount
};

// Canonical spellings, indexed by Field; they are what error messages and the CSV header use.
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "name",          "count",    "cpu",      "memory",   "epc",
    "enclave_slots", "max_pods", "lifetime", "epc_used", "enclave_slots_used",
    "pods_used",
};

constexpr std::string_view kKnownKeys =
    "name, count, cpu, memory, epc, enclave_slots (enclaveSlots), max_pods (maxPods), lifetime, "
    "epc_used (epcUsed), enclave_slots_used (enclaveSlotsUsed), pods_used (podsUsed)";

// camelCase spellings, as a Kubernetes object would write the keys.
struct Alias {
  std::string_view spelling;
  Field field;
};
constexpr std::array<Alias, 5> kAliases = {{{"enclaveSlots", kEnclaveSlots},
                                            {"maxPods", kMaxPods},
                                            {"epcUsed", kEpcUsed},
                                            {"enclaveSlotsUsed", kEnclaveSlotsUsed},
                                            {"podsUsed", kPodsUsed}}};

std::optional<Field> find_field(std::string_view key) {
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    if (key == kFieldNames[f]) {
      return static_cast<Field>(f);
    }
  }
  for (const Alias& alias : kAliases) {
    if (key == alias.spelling) {
      return alias.field;
    }
  }
  return std::nullopt;
}

enum class Kind { kNode, kPod };

std::string_view kind_name(Kind kind) { return kind == Kind::kNode ? "node" : "pod"; }

// Where a text came from: a 1-based line, and a 1-based column (0 in CSV, which reports lines).
struct Where {
  std::int64_t line = 0;
  std::int64_t column = 0;
};

// One node or pod entry as written, before validation. An empty text means "not given".
struct RawEntry {
  Kind kind = Kind::kNode;
  Where where;  // the CSV row, or the YAML map
  std::array<std::string, kFieldCount> text;
  std::array<Where, kFieldCount> value_where;
};

// ---------------------------------------------------------------------------------------------
// Value parsers: each returns an error text, empty when `out` was set.

// `"text" rest`, built by appending: GCC 12 at -O3 warns falsely (-Wrestrict, its bug 105329)
// about `"\"" + std::string(text)`.
std::string quoted_then(std::string_view text, std::string_view rest) {
  std::string message = "\"";
  message += text;
  message += '"';
  message += rest;
  return message;
}

// Stores what a shared parser (common/value_parsers.h) read, or returns its error text.
std::string store(const common::Result<std::int64_t>& parsed, std::int64_t& out) {
  if (!parsed.ok()) {
    return parsed.error().message;
  }
  out = *parsed;
  return {};
}

std::string parse_whole(std::string_view text, std::int64_t max, std::int64_t& out) {
  return store(common::parse_int_in(text, 0, max), out);
}

std::string parse_bytes(std::string_view text, std::int64_t& out) {
  return store(common::parse_bytes_in(text, 0, kGenericMaxBytes), out);
}

std::string parse_cpu(std::string_view text, std::int64_t& out) {
  auto value = common::parse_quantity_milli(text);
  if (!value.ok()) {
    return value.error().message + " (write e.g. 4, 500m)";
  }
  if (*value < 0 || *value > kGenericMaxCpuMilli) {
    return quoted_then(text, " is out of range 0.." + std::to_string(kGenericMaxCpuMilli / 1000));
  }
  out = *value;
  return {};
}

// Whole seconds, or a whole number with one unit suffix: s, m, h, d.
std::string parse_lifetime(std::string_view text, std::int64_t& out) {
  struct Unit {
    char suffix;
    std::int64_t seconds;
  };
  constexpr Unit kUnits[] = {{'s', 1}, {'m', 60}, {'h', 60 * 60}, {'d', 24 * 60 * 60}};
  std::int64_t scale = 1;
  std::string_view digits = text;
  for (const Unit& unit : kUnits) {
    if (!digits.empty() && digits.back() == unit.suffix) {
      scale = unit.seconds;
      digits.remove_suffix(1);
      break;
    }
  }
  std::int64_t value = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || ec != std::errc() || ptr != end || value < 0 ||
      value > std::numeric_limits<std::int64_t>::max() / scale) {
    return quoted_then(
        text, " is not a whole number of seconds, or of s/m/h/d (write e.g. 90, 30m, 2h, 1d)");
  }
  out = value * scale;
  return {};
}

// ---------------------------------------------------------------------------------------------
// Validation and replication, shared by both syntaxes.

// Every entry is validated and kept as one row with its count; copies are made only in finish(),
// after the total is known to be within kGenericMaxEntries. So no input can make the reader
// allocate more than the input's own size plus that limit.
class TraceBuilder {
 public:
  explicit TraceBuilder(std::string_view source) : source_(source) {}

  // "source:line" or "source:line:column".
  std::string at(Where where) const {
    std::string text(source_);
    text += ':';
    text += std::to_string(where.line);
    if (where.column > 0) {
      text += ':';
      text += std::to_string(where.column);
    }
    return text;
  }

  // Validates one entry and records it; returns an error text, empty on success.
  std::string add(const RawEntry& entry) {
    const std::string& name = entry.text[kName];
    const std::string_view kind = kind_name(entry.kind);
    if (name.empty()) {
      return at(entry.where) + ": " + std::string(kind) + " without a name";
    }
    const auto fail = [&](Field field, const std::string& why) {
      const Where where =
          entry.value_where[field].line > 0 ? entry.value_where[field] : entry.where;
      return at(where) + ": " + std::string(kind) + " \"" + name +
             "\": " + std::string(kFieldNames[field]) + ": " + why;
    };
    const auto given = [&](Field field) { return !entry.text[field].empty(); };

    const bool is_node = entry.kind == Kind::kNode;
    for (Field field : {kCpu, kMemory, kEpc}) {
      if (!given(field) && (is_node || field != kEpc)) {
        return fail(field, "missing");
      }
    }
    if (is_node && given(kLifetime)) {
      return fail(kLifetime, "applies to pods only");
    }
    for (Field field : {kMaxPods, kEpcUsed, kEnclaveSlotsUsed, kPodsUsed}) {
      if (!is_node && given(field)) {
        return fail(field, "applies to nodes only");
      }
    }

    Entry out;
    out.is_node = is_node;
    out.where = entry.where;
    out.name = name;
    out.enclave_slots = is_node ? kDefaultNodeEnclaveSlots : kDefaultPodEnclaveSlots;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      const auto field = static_cast<Field>(f);
      const std::string& text = entry.text[field];
      if (text.empty()) {
        continue;
      }
      std::string bad;
      switch (field) {
        case kName:
          break;
        case kCount:
          bad = parse_whole(text, kGenericMaxCount, out.count);
          break;
        case kCpu:
          bad = parse_cpu(text, out.cpu_milli);
          break;
        case kMemory:
          bad = parse_bytes(text, out.memory_bytes);
          break;
        case kEpc:
          bad = parse_bytes(text, out.epc_bytes);
          break;
        case kEnclaveSlots:
          bad = parse_whole(text, kGenericMaxSlots, out.enclave_slots);
          break;
        case kMaxPods:
          bad = parse_whole(text, kGenericMaxSlots, out.max_pods);
          break;
        case kLifetime:
          bad = parse_lifetime(text, out.lifetime_s);
          break;
        case kEpcUsed:
          bad = parse_bytes(text, out.epc_used_bytes);
          break;
        case kEnclaveSlotsUsed:
          bad = parse_whole(text, kGenericMaxSlots, out.enclave_slots_used);
          break;
        case kPodsUsed:
          bad = parse_whole(text, kGenericMaxSlots, out.pods_used);
          break;
        case kFieldCount:
          break;
      }
      if (!bad.empty()) {
        return fail(field, bad);
      }
    }
    // What pods already hold cannot exceed what the node has: such a snapshot is inconsistent, and
    // a simulation that started over capacity would report it as the strategies' fault.
    const struct {
      Field used;
      Field capacity;
      std::int64_t used_value;
      std::int64_t capacity_value;
    } used_rules[] = {{kEpcUsed, kEpc, out.epc_used_bytes, out.epc_bytes},
                      {kEnclaveSlotsUsed, kEnclaveSlots, out.enclave_slots_used, out.enclave_slots},
                      {kPodsUsed, kMaxPods, out.pods_used, out.max_pods}};
    for (const auto& rule : used_rules) {
      if (rule.used_value > rule.capacity_value) {
        const std::string capacity = given(rule.capacity)
                                         ? entry.text[rule.capacity]
                                         : std::to_string(rule.capacity_value) + ", the default";
        return fail(rule.used,
                    quoted_then(entry.text[rule.used], " is more than the node's " +
                                                           std::string(kFieldNames[rule.capacity]) +
                                                           " (" + capacity + ")"));
      }
    }
    if (out.count > kGenericMaxEntries - entries_) {
      return fail(kCount, "the trace would hold more than " + std::to_string(kGenericMaxEntries) +
                              " nodes and pods");
    }
    entries_ += out.count;
    (is_node ? node_count_ : pod_count_) += out.count;
    entries_list_.push_back(std::move(out));
    return {};
  }

  // The trace: nodes and pods in input order, node rows with count > 1 named name-0.. name-(n-1).
  common::Result<Trace> finish() && {
    if (node_count_ == 0 || pod_count_ == 0) {
      return common::Error{std::string(source_) + ": the trace defines no " +
                           (node_count_ == 0 ? "nodes" : "pods") +
                           " (a simulation needs at least one node and one pod)"};
    }
    Trace trace;
    trace.nodes.reserve(static_cast<std::size_t>(node_count_));
    trace.pods.reserve(static_cast<std::size_t>(pod_count_));
    std::unordered_map<std::string, Where> node_where;  // the engine tells nodes apart by name
    for (Entry& entry : entries_list_) {
      if (!entry.is_node) {
        const SimPod pod{entry.name,      entry.cpu_milli,     entry.memory_bytes,
                         entry.epc_bytes, entry.enclave_slots, entry.lifetime_s};
        trace.pods.insert(trace.pods.end(), static_cast<std::size_t>(entry.count), pod);
        continue;
      }
      for (std::int64_t i = 0; i < entry.count; ++i) {
        SimNode node{entry.count > 1 ? entry.name + "-" + std::to_string(i) : entry.name,
                     entry.cpu_milli,
                     entry.memory_bytes,
                     entry.epc_bytes,
                     entry.enclave_slots,
                     entry.max_pods,
                     entry.epc_used_bytes,
                     entry.enclave_slots_used,
                     entry.pods_used};
        if (auto [it, inserted] = node_where.emplace(node.name, entry.where); !inserted) {
          return common::Error{at(entry.where) + ": node \"" + node.name +
                               "\" is already defined at " + at(it->second)};
        }
        trace.nodes.push_back(std::move(node));
      }
    }
    return trace;
  }

 private:
  // One validated entry, before replication.
  struct Entry {
    bool is_node = false;
    Where where;
    std::int64_t count = 1;
    std::string name;
    std::int64_t cpu_milli = 0;
    std::int64_t memory_bytes = 0;
    std::int64_t epc_bytes = 0;
    std::int64_t enclave_slots = 0;
    std::int64_t max_pods = kDefaultMaxPods;  // nodes only
    std::int64_t lifetime_s = -1;             // pods only
    std::int64_t epc_used_bytes = 0;          // nodes only, like the two below
    std::int64_t enclave_slots_used = 0;
    std::int64_t pods_used = 0;
  };

  std::string_view source_;
  std::vector<Entry> entries_list_;
  std::int64_t entries_ = 0;
  std::int64_t node_count_ = 0;
  std::int64_t pod_count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// CSV.

common::Result<Trace> read_csv(std::istream& in, std::string_view source) {
  TraceBuilder builder(source);
  std::string line;
  std::vector<std::string_view> cells;
  std::int64_t line_number = 0;
  const auto at_line = [&] { return builder.at(Where{line_number, 0}); };

  // Header: the column of `kind` and of each field, or npos.
  constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
  std::size_t kind_column = kAbsent;
  std::array<std::size_t, kFieldCount> column_of;
  column_of.fill(kAbsent);
  if (!std::getline(in, line)) {
    return common::Error{std::string(source) +
                         ": empty input, expected a header line (kind,name,...)"};
  }
  line_number = 1;
  const std::string_view header = header_line(line);
  split_csv_line(header, cells);
  const std::size_t width = cells.size();
  for (std::size_t c = 0; c < cells.size(); ++c) {
    std::size_t* slot = nullptr;
    if (cells[c] == "kind") {
      slot = &kind_column;
    } else if (auto field = find_field(cells[c])) {
      slot = &column_of[*field];
    } else {
      return common::Error{at_line() + ": unknown column \"" + std::string(cells[c]) +
                           "\" (known: kind, " + std::string(kKnownKeys) + ")"};
    }
    if (*slot != kAbsent) {
      return common::Error{at_line() + ": column \"" + std::string(cells[c]) + "\" is given twice"};
    }
    *slot = c;
  }
  if (kind_column == kAbsent) {
    return common::Error{at_line() + ": the header has no column \"kind\""};
  }
  for (Field required : {kName, kCpu, kMemory, kEpc}) {
    if (column_of[required] == kAbsent) {
      return common::Error{at_line() + ": the header has no column \"" +
                           std::string(kFieldNames[required]) + "\""};
    }
  }

  RawEntry entry;
  while (std::getline(in, line)) {
    ++line_number;
    if (trim_cell(line).empty()) {
      continue;
    }
    split_csv_line(line, cells);
    if (cells.size() != width) {
      return common::Error{at_line() + ": " + std::to_string(cells.size()) +
                           " cells, but the header has " + std::to_string(width)};
    }
    const std::string_view kind = cells[kind_column];
    if (kind == "node") {
      entry.kind = Kind::kNode;
    } else if (kind == "pod") {
      entry.kind = Kind::kPod;
    } else {
      return common::Error{at_line() + ": kind \"" + std::string(kind) + "\" is not node or pod"};
    }
    entry.where = Where{line_number, 0};
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      entry.text[f] = column_of[f] == kAbsent ? std::string() : std::string(cells[column_of[f]]);
      entry.value_where[f] = entry.where;
    }
    if (auto bad = builder.add(entry); !bad.empty()) {
      return common::Error{std::move(bad)};
    }
  }
  if (in.bad()) {
    return common::Error{at_line() + ": read error"};
  }
  return std::move(builder).finish();
}

// ---------------------------------------------------------------------------------------------
// YAML.

Where where_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return {};
  }
  return Where{mark.line + 1, mark.column + 1};
}

std::string read_yaml_list(const YAML::Node& list, Kind kind, std::string_view list_name,
                           TraceBuilder& builder) {
  if (list.IsNull()) {
    return {};  // "pods:" with nothing under it
  }
  if (!list.IsSequence()) {
    return builder.at(where_of(list)) + ": " + std::string(list_name) + " must be a list";
  }
  RawEntry entry;
  entry.kind = kind;
  std::size_t index = 0;
  for (const YAML::Node& item : list) {
    const std::string item_name = std::string(list_name) + "[" + std::to_string(index++) + "]";
    entry.where = where_of(item);
    if (!item.IsMap()) {
      return builder.at(entry.where) + ": " + item_name + " must be a map of keys (" +
             std::string(kKnownKeys) + ")";
    }
    std::array<bool, kFieldCount> seen{};
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      entry.text[f].clear();
      entry.value_where[f] = entry.where;
    }
    for (const auto& pair : item) {
      const std::string key = pair.first.IsScalar() ? pair.first.Scalar() : std::string();
      const auto field = find_field(key);
      if (!field) {
        return builder.at(where_of(pair.first)) + ": " + item_name + ": unknown key \"" + key +
               "\" (known: " + std::string(kKnownKeys) + ")";
      }
      if (seen[*field]) {
        return builder.at(where_of(pair.first)) + ": " + item_name + ": " +
               std::string(kFieldNames[*field]) + " is given twice";
      }
      seen[*field] = true;
      if (!pair.second.IsNull() && !pair.second.IsScalar()) {
        return builder.at(where_of(pair.second)) + ": " + item_name + ": " + key +
               " must be a single value";
      }
      entry.text[*field] = pair.second.IsNull() ? std::string() : pair.second.Scalar();
      entry.value_where[*field] = where_of(pair.second);
    }
    if (auto bad = builder.add(entry); !bad.empty()) {
      return bad;
    }
  }
  return {};
}

common::Result<Trace> read_yaml(std::string_view yaml, std::string_view source) {
  TraceBuilder builder(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.is_null()
                                  ? std::string(source)
                                  : builder.at(Where{e.mark.line + 1, e.mark.column + 1});
    return common::Error{where + ": not valid YAML: " + e.msg};
  }
  if (!root.IsMap()) {
    return common::Error{std::string(source) + ": expected a map with the lists nodes: and pods:"};
  }
  bool seen_nodes = false;
  bool seen_pods = false;
  for (const auto& pair : root) {
    const std::string key = pair.first.IsScalar() ? pair.first.Scalar() : std::string();
    const bool is_nodes = key == "nodes";
    if (!is_nodes && key != "pods") {
      return common::Error{builder.at(where_of(pair.first)) + ": unknown key \"" + key +
                           "\" (known: nodes, pods)"};
    }
    bool& seen = is_nodes ? seen_nodes : seen_pods;
    if (seen) {
      return common::Error{builder.at(where_of(pair.first)) + ": " + key + " is given twice"};
    }
    seen = true;
    if (auto bad = read_yaml_list(pair.second, is_nodes ? Kind::kNode : Kind::kPod, key, builder);
        !bad.empty()) {
      return common::Error{std::move(bad)};
    }
  }
  return std::move(builder).finish();
}

// ---------------------------------------------------------------------------------------------
// Files.

// Reads at most kGenericMaxFileBytes, so a huge or endless file (a FIFO, /dev/zero) cannot
// exhaust memory.
common::Result<std::string> read_capped(std::istream& in, const std::string& path) {
  std::string text;
  std::array<char, 64 * 1024> buffer;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (std::cmp_greater(text.size(), kGenericMaxFileBytes)) {
      return common::Error{"\"" + path + "\" is larger than " +
                           std::to_string(kGenericMaxFileBytes >> 20) + " MiB"};
    }
  }
  if (in.bad()) {
    return common::Error{"cannot read \"" + path + "\""};
  }
  return text;
}

}  // namespace

common::Result<Trace> read_generic_csv(std::istream& in, std::string_view source) {
  try {
    return read_csv(in, source);
  } catch (const std::exception& e) {  // only allocation failures can get here
    return common::Error{std::string(source) + ": " + e.what()};
  }
}

common::Result<Trace> read_generic_yaml(std::string_view yaml, std::string_view source) {
  if (std::cmp_greater(yaml.size(), kGenericMaxFileBytes)) {
    return common::Error{std::string(source) + ": larger than " +
                         std::to_string(kGenericMaxFileBytes >> 20) + " MiB"};
  }
  try {
    return read_yaml(yaml, source);
  } catch (const std::exception& e) {  // yaml-cpp throws from accessors too
    return common::Error{std::string(source) + ": " + e.what()};
  }
}

common::Result<Trace> read_generic_trace(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool is_csv = extension == ".csv";
  if (!is_csv && extension != ".yaml" && extension != ".yml") {
    return common::Error{"\"" + path + "\": unknown trace format \"" + extension +
                         "\" (the generic form is a .csv, .yaml or .yml file)"};
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return common::Error{"cannot open trace file \"" + path + "\""};
  }
  if (is_csv) {
    return read_generic_csv(file, path);
  }
  auto text = read_capped(file, path);
  if (!text.ok()) {
    return text.error();
  }
  return read_generic_yaml(*text, path);
}

}  // namespace epc::tools::sim
