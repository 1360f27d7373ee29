#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace epc::tools::epcctl {

enum class Command { kNone, kCapacity };

// epcctl's command line (see usage()).
struct EpcctlOptions {
  Command command = Command::kNone;
  bool help = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8888;
  // capacity: the shapes asked for (EPC each); empty = the standard four.
  std::vector<std::int64_t> epc_bytes;
  std::int64_t enclaves = 1;
  std::int64_t provision = 0;
  std::size_t top_nodes = 10;  // nodes listed under a single shape
};

// argv without the program name. Errors name the flag.
common::Result<EpcctlOptions> parse_epcctl_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace epc::tools::epcctl
