#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "extender/core/node_row.h"

namespace epc::state {

// Transparent hashing so lookups by std::string_view (straight from the request JSON) build no
// temporary std::string.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const noexcept {
    return std::hash<std::string_view>{}(name);
  }
};

// Per-node facts that are not needed by fit/score but by metrics and operators.
// Where a node's EPC capacity comes from.
enum class CapacitySource : std::uint8_t {
  kPluginReport,    // our device plugin's report
  kNodeAllocatable  // the node's allocatable sgx.intel.com/epc (Intel's stack: NFD's rule)
};

struct NodeInfo {
  std::string name;
  std::string plugin_version;
  std::string health_reason;
  std::int64_t ledger_pods = 0;
  std::int64_t ledger_pods_unknown_epc = 0;
  bool stream_connected = false;
  CapacitySource capacity_source = CapacitySource::kPluginReport;
  // The node object's allocatable sgx.intel.com/epc when the API watch gives one, else -1.
  std::int64_t api_epc_bytes = -1;
  // Our plugin reports a capacity and the node's allocatable says another.
  bool capacity_mismatch = false;
};

// The node table: one core::NodeRow per node (what fit and score read) and its NodeInfo, by dense
// index, plus the name -> index directory.
//
// Why chunks: the state writer publishes a new table whenever a node changes, and with thousands
// of nodes reporting a flat copy of every row per publish made ingest cost grow with the cluster.
// Rows live in fixed chunks of kChunkRows shared between table versions: a new version shares
// every chunk and the directory of the one before and copies only the chunks of the nodes that
// changed (copy on write, next_version + set). A new directory is built only when nodes come or
// go. Report times are the exception to immutability: a heartbeat changes nothing but the time, so
// the writer moves it forward in place (touch_report_time; core::ReportTime is atomic), and every
// snapshot that shares the chunk sees it.
//
// Thread-safety: readers may use a published table from any thread. Only the state writer calls
// the builder methods, and only on a table it has not published yet (touch_report_time excepted).
class NodeTable {
 public:
  static constexpr std::uint32_t kChunkShift = 6;
  static constexpr std::uint32_t kChunkRows = 1U << kChunkShift;

  const core::NodeRow& row(std::uint32_t index) const {
    return chunks_[index >> kChunkShift]->rows[index & (kChunkRows - 1)];
  }
  const NodeInfo& info(std::uint32_t index) const {
    return chunks_[index >> kChunkShift]->infos[index & (kChunkRows - 1)];
  }
  // Names by index, contiguous (the handlers' memoised lookups compare them in their hot loop).
  std::string_view name(std::uint32_t index) const { return directory_->names[index]; }
  std::size_t size() const { return directory_->names.size(); }

  // Dense index of a node by name; nullopt for a node never reported.
  std::optional<std::uint32_t> find(std::string_view name) const {
    auto it = directory_->index.find(name);
    if (it == directory_->index.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  // ---- builder side (state writer, tests) ----

  // Appends a node to a table nobody shares yet.
  void add(NodeInfo info, const core::NodeRow& row);
  void reserve(std::size_t nodes);

  // A new version of `previous` with the same nodes: shares its directory and every chunk.
  static std::shared_ptr<NodeTable> next_version(const NodeTable& previous);
  // Replaces node `index`'s row and info in an unpublished table, copying its chunk first when it
  // is shared with an earlier version.
  void set(std::uint32_t index, const NodeInfo& info, const core::NodeRow& row);
  // Moves node `index`'s report time forward in place, in a published table (see above).
  void touch_report_time(std::uint32_t index, std::int64_t report_time_ns) const {
    row(index).report_time_ns.store(report_time_ns);
  }

 private:
  struct Chunk {
    std::array<core::NodeRow, kChunkRows> rows;
    std::array<NodeInfo, kChunkRows> infos;
  };
  struct Directory {
    std::vector<std::string> names;
    std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> index;
  };

  std::shared_ptr<Directory> directory_ = std::make_shared<Directory>();
  std::vector<std::shared_ptr<Chunk>> chunks_;
  // Chunks this version copied (or created) itself: writable until it is published.
  std::vector<bool> owned_;
};

}  // namespace epc::state
