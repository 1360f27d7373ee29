#include "tools/standins/sgx_root_standin.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace epc::tools::standins {

SgxRootStandin::SgxRootStandin() : dir_("epc-sgxroot") {
  if (auto created = dir_.status(); !created) {
    first_error_ = created.error().message;
  }
}

void SgxRootStandin::write(const std::string& relative, const std::string& content) {
  // Without the temp dir, path() is empty and the file would land relative to the working
  // directory: refuse instead.
  if (dir_.path().empty()) {
    return;
  }
  const std::filesystem::path path = std::filesystem::path(dir_.path()) / relative;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out && first_error_.empty()) {
    first_error_ = "cannot write " + path.string();
  }
}

void SgxRootStandin::remove(const std::string& relative) {
  if (dir_.path().empty()) {
    return;
  }
  std::error_code ec;  // already gone is fine
  std::filesystem::remove(std::filesystem::path(dir_.path()) / relative, ec);
}

void SgxRootStandin::set_cpu_flags(const std::string& flags) {
  std::string text;
  for (int cpu = 0; cpu < 2; ++cpu) {
    text += "processor\t: " + std::to_string(cpu) + "\n";
    text += "vendor_id\t: GenuineIntel\n";
    text += "model name\t: Intel(R) Xeon(R) Fake CPU\n";
    text += "flags\t\t: fpu vme de pse tsc msr " + flags + " xsave avx\n";
    text += "bugs\t\t: spectre_v1\n\n";
  }
  write("proc/cpuinfo", text);
}

void SgxRootStandin::set_numa_epc(int node, std::uint64_t bytes) {
  write("sys/devices/system/node/node" + std::to_string(node) + "/x86/sgx_total_bytes",
        std::to_string(bytes) + "\n");
}

void SgxRootStandin::add_numa_node_without_sgx(int node) {
  write("sys/devices/system/node/node" + std::to_string(node) + "/cpulist", "0-1\n");
}

void SgxRootStandin::add_device_nodes(bool enclave, bool provision) {
  if (enclave) {
    write("dev/sgx_enclave", "");
  }
  if (provision) {
    write("dev/sgx_provision", "");
  }
}

void SgxRootStandin::set_misc_sgx_epc(std::uint64_t capacity_bytes, std::uint64_t used_bytes) {
  write("sys/fs/cgroup/misc.capacity",
        "res_a 10\nsgx_epc " + std::to_string(capacity_bytes) + "\n");
  write("sys/fs/cgroup/misc.current", "res_a 3\nsgx_epc " + std::to_string(used_bytes) + "\n");
}

void SgxRootStandin::make_sgx2_node(int numa_nodes, std::uint64_t epc_bytes_per_node) {
  set_cpu_flags("sgx sgx_lc sgx2");
  for (int node = 0; node < numa_nodes; ++node) {
    set_numa_epc(node, epc_bytes_per_node);
  }
  add_device_nodes();
}

common::Result<std::monostate> SgxRootStandin::status() const {
  if (!first_error_.empty()) {
    return common::Error{first_error_};
  }
  return std::monostate{};
}

}  // namespace epc::tools::standins
