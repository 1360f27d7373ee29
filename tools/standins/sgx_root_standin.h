#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/result.h"
#include "tools/standins/temp_dir.h"

namespace epc::tools::standins {

// A stand-in node filesystem for SGX discovery (tests, and the demo's --plugins nodes): a temp dir
// laid out like "/" with only the files discovery reads. Device nodes are regular files (discovery
// only checks presence).
//
// The setters do not stop on a failed write: the first failure (temp dir not created, file not
// written) is kept and status() returns it, so a caller lays out the root and checks once.
//
//   SgxRootStandin root;
//   root.set_cpu_flags("fpu sgx sgx_lc");
//   root.set_numa_epc(0, 64ULL << 30);
//   root.add_device_nodes();
class SgxRootStandin {
 public:
  SgxRootStandin();

  const std::string& path() const { return dir_.path(); }

  // Writes `content` to path() + relative (parents created), replacing any file there.
  void write(const std::string& relative, const std::string& content);
  void remove(const std::string& relative);

  // /proc/cpuinfo with two CPUs whose "flags" lines list `flags`.
  void set_cpu_flags(const std::string& flags);
  // /sys/devices/system/node/node<N>/x86/sgx_total_bytes.
  void set_numa_epc(int node, std::uint64_t bytes);
  // A NUMA node directory without the sgx attribute (older kernels, nodes without SGX support).
  void add_numa_node_without_sgx(int node);
  // /dev/sgx_enclave and/or /dev/sgx_provision as regular files.
  void add_device_nodes(bool enclave = true, bool provision = true);
  // /sys/fs/cgroup/misc.capacity and misc.current with "sgx_epc" lines (plus an unrelated line).
  void set_misc_sgx_epc(std::uint64_t capacity_bytes, std::uint64_t used_bytes);

  // A complete SGX2 + FLC node: flags, EPC per NUMA node, both device nodes.
  void make_sgx2_node(int numa_nodes, std::uint64_t epc_bytes_per_node);

  // The first failure since construction (the temp dir's or a write's), if any.
  common::Result<std::monostate> status() const;

 private:
  TempDir dir_;
  std::string first_error_;  // empty while every write succeeded
};

}  // namespace epc::tools::standins
