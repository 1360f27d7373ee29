#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "deviceplugin/sgx/sgx_info.h"

namespace epc::deviceplugin::sgx {

// The misc cgroup controller's files at the cgroup v2 root. Kernels with SGX EPC cgroup support
// list "sgx_epc <bytes>" in both; mainline kernels without it have no such line (or no files).
inline constexpr std::string_view kMiscCapacityPath = "/sys/fs/cgroup/misc.capacity";
inline constexpr std::string_view kMiscCurrentPath = "/sys/fs/cgroup/misc.current";
inline constexpr std::string_view kMiscSgxEpcKey = "sgx_epc";

// The value of the `key` line ("sgx_epc 1234") in a misc.capacity / misc.current text.
// No such line -> nullopt. A `key` line whose value is not a decimal number -> Error. Other lines
// are not looked at: other misc resources are none of our business.
common::Result<std::optional<std::uint64_t>> parse_misc_value(std::string_view text,
                                                              std::string_view key);

// Live EPC use under `root`: known only when both files exist and both have an sgx_epc line.
// Absent files or lines -> known = false (not an error: the kernel lacks the feature).
// Garbage on an sgx_epc line, or an unreadable file -> Error naming the file.
common::Result<LiveEpc> read_live_epc(std::string_view root);

}  // namespace epc::deviceplugin::sgx
