#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace epc::tools::epcctl {

enum class Command { kNone, kCapacity, kSnapshot };

// epcctl's command line (see usage()).
struct EpcctlOptions {
  Command command = Command::kNone;
  bool help = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8888;
  // HTTPS when ca_file is set: the extender's certificate verified against it, for server_name
  // (empty: the host).
  std::string ca_file;
  std::string server_name;
  // capacity: the shapes asked for (EPC each); empty = the standard four.
  std::vector<std::int64_t> epc_bytes;
  std::int64_t enclaves = 1;
  std::int64_t provision = 0;
  std::size_t top_nodes = 10;  // nodes listed under a single shape
  // snapshot: what the extender does not know, for epc-sim's kube-scheduler model. Placeholders
  // large for nodes and small for pods, so that CPU and memory do not decide a what-if run.
  std::int64_t node_cpu_milli = 64'000;
  std::int64_t node_memory_bytes = std::int64_t{512} << 30;
  std::int64_t pod_cpu_milli = 100;
  std::int64_t pod_memory_bytes = std::int64_t{256} << 20;
  std::string output = "-";  // snapshot: a file, or "-" for stdout
};

// argv without the program name. Errors name the flag.
common::Result<EpcctlOptions> parse_epcctl_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace epc::tools::epcctl
