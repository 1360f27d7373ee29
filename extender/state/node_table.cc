#include "extender/state/node_table.h"

namespace epc::state {

void NodeTable::add(NodeInfo info, const core::NodeRow& row) {
  assert(directory_.use_count() == 1);
  const auto index = static_cast<std::uint32_t>(size());
  const std::uint32_t chunk = index >> kChunkShift;
  if (chunk == chunks_.size()) {
    chunks_.push_back(std::make_shared<Chunk>());
    owned_.push_back(true);
  }
  assert(owned_[chunk]);
  directory_->index.emplace(info.name, index);
  directory_->names.push_back(info.name);
  const std::uint32_t slot = index & (kChunkRows - 1);
  chunks_[chunk]->rows[slot] = row;
  chunks_[chunk]->infos[slot] = std::move(info);
}

void NodeTable::reserve(std::size_t nodes) {
  assert(directory_.use_count() == 1);
  directory_->names.reserve(nodes);
  directory_->index.reserve(nodes);
  chunks_.reserve((nodes + kChunkRows - 1) / kChunkRows);
  owned_.reserve(chunks_.capacity());
}

std::shared_ptr<NodeTable> NodeTable::next_version(const NodeTable& previous) {
  auto next = std::make_shared<NodeTable>();
  next->directory_ = previous.directory_;
  next->chunks_ = previous.chunks_;
  next->owned_.assign(previous.chunks_.size(), false);
  return next;
}

void NodeTable::set(std::uint32_t index, const NodeInfo& info, const core::NodeRow& row) {
  const std::uint32_t chunk = index >> kChunkShift;
  if (!owned_[chunk]) {
    chunks_[chunk] = std::make_shared<Chunk>(*chunks_[chunk]);
    owned_[chunk] = true;
  }
  const std::uint32_t slot = index & (kChunkRows - 1);
  chunks_[chunk]->rows[slot] = row;
  chunks_[chunk]->infos[slot] = info;
}

}  // namespace epc::state
