#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace epc::test_support {

// Entries in /proc/self/fd (open descriptors, including the one used to list them).
std::size_t open_fd_count();
// Entries in /proc/self/task (threads of this process).
std::size_t thread_count();
// Threads of this process by name (/proc/self/task/*/comm, at most 15 characters).
std::map<std::string, std::size_t> threads_by_name();

// gRPC's own elastic thread pools: they grow on demand up to a cap and then stay (iomgr executors:
// 2 x cores each; the timer manager). Their growth is not a leak of ours, so leak checks count
// them apart (see grpc_pool_threads) and bound them instead.
bool is_grpc_elastic_pool(const std::string& thread_name);

// Threads not in gRPC's elastic pools / threads in them.
std::size_t threads_outside_grpc_pools();
std::size_t grpc_pool_threads();

}  // namespace epc::test_support
