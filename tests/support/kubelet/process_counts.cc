#include "tests/support/kubelet/process_counts.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace epc::test_support {

namespace {

std::size_t entries(const char* dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

std::size_t open_fd_count() { return entries("/proc/self/fd"); }
std::size_t thread_count() { return entries("/proc/self/task"); }

std::map<std::string, std::size_t> threads_by_name() {
  std::map<std::string, std::size_t> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::ifstream comm(it->path() / "comm");
    std::string name;
    std::getline(comm, name);
    ++out[name];  // a thread that exited meanwhile counts under ""
  }
  return out;
}

bool is_grpc_elastic_pool(const std::string& thread_name) {
  return thread_name == "default-executo" || thread_name == "resolver-execut" ||
         thread_name == "grpc_global_tim";
}

std::size_t threads_outside_grpc_pools() {
  std::size_t n = 0;
  for (const auto& [name, count] : threads_by_name()) {
    n += is_grpc_elastic_pool(name) ? 0 : count;
  }
  return n;
}

std::size_t grpc_pool_threads() {
  std::size_t n = 0;
  for (const auto& [name, count] : threads_by_name()) {
    n += is_grpc_elastic_pool(name) ? count : 0;
  }
  return n;
}

}  // namespace epc::test_support
