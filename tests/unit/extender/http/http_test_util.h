#pragma once

// Shared fixtures of the extender/http unit tests: recorded kube-scheduler bodies, the cluster they
// were recorded against, snapshot rows, and decoding helpers.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "extender/core/node_row.h"
#include "extender/http/codec/extender_args.h"
#include "extender/http/codec/padded_buffer.h"
#include "extender/state/cluster_snapshot.h"

namespace epc::http::test {

inline constexpr std::int64_t kMi = 1024 * 1024;
// Fixed "now" of the handler tests (monotonic ns); rows report at this instant unless a test ages
// them.
inline constexpr std::int64_t kNowNs = 1'000'000'000'000;

// A recorded body from tests/data/kube-scheduler/ (see ORIGIN.md).
inline std::string recorded(std::string_view file) {
  const std::string path = std::string(EPC_TEST_DATA_DIR) + "/kube-scheduler/" + std::string(file);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A node with SGX that reported at kNowNs: `epc_mi` MiB EPC, 20 enclave and 20 provision slots, as
// in the cluster the bodies were recorded against.
inline core::NodeRow sgx_row(std::int64_t epc_mi, std::int64_t slots = 20) {
  core::NodeRow row;
  row.ever_reported = true;
  row.has_sgx = true;
  row.epc_capacity_bytes = epc_mi * kMi;
  row.epc_section_count = 1;
  row.epc_section_bytes[0] = epc_mi * kMi;
  row.enclave_slots_total = slots;
  row.provision_slots_total = slots;
  row.report_time_ns = kNowNs;
  return row;
}

inline state::NodeInfo info(std::string name) {
  state::NodeInfo node;
  node.name = std::move(name);
  node.stream_connected = true;
  return node;
}

// node-a 128Mi, node-b 256Mi, node-c 32Mi (ORIGIN.md), nothing in use.
inline state::ClusterSnapshot recorded_cluster() {
  state::ClusterSnapshot snapshot;
  snapshot.add(info("node-a"), sgx_row(128));
  snapshot.add(info("node-b"), sgx_row(256));
  snapshot.add(info("node-c"), sgx_row(32));
  return snapshot;
}

inline codec::PaddedBuffer padded(std::string_view text) {
  codec::PaddedBuffer buffer;
  buffer.assign(text);
  return buffer;
}

// The i-th element of Nodes.items of a full-mode request body, as a parsed JSON value.
inline boost::json::value request_item(const std::string& body, std::size_t i) {
  return boost::json::parse(body).as_object().at("Nodes").as_object().at("items").as_array().at(i);
}

}  // namespace epc::http::test
