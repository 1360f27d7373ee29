#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace epc::deviceplugin::sgx {

// Every path the discovery reads is rooted at a configurable prefix, so tests and the demo run on
// machines without SGX against a fake tree ("<tmp>/sys/...", "<tmp>/dev/sgx_enclave").

// `root` joined with an absolute `path`: rooted("/", "/dev/x") == "/dev/x",
// rooted("/tmp/r", "/dev/x") == "/tmp/r/dev/x", rooted("/tmp/r/", "/dev/x") == "/tmp/r/dev/x".
std::string rooted(std::string_view root, std::string_view path);

// Reads at most `max_bytes` from the start of a file. sysfs and procfs report a size of 0, so the
// file is read until EOF or the limit. Absent file (ENOENT, ENOTDIR) -> nullopt; any other failure
// (permission, EIO, a directory) -> Error naming the path.
common::Result<std::optional<std::string>> read_file_prefix(const std::string& path,
                                                            std::size_t max_bytes);

// A whole small file (sysfs attributes, cgroup files). Bigger than `max_bytes` -> Error: a value
// file that large is not what we expect to read and is refused rather than truncated.
common::Result<std::optional<std::string>> read_small_file(const std::string& path,
                                                           std::size_t max_bytes = 4096);

// A decimal unsigned 64-bit number with optional surrounding whitespace (sysfs writes "123\n").
// Empty, signs, other characters or overflow -> Error that quotes (a bounded prefix of) the text.
common::Result<std::uint64_t> parse_u64(std::string_view text);

// `text` cut to a printable bounded excerpt for error messages (garbage may be binary or huge).
std::string excerpt(std::string_view text);

// True when something (a device node, a fake regular file, a symlink to one) exists at `path`
// and is not a directory.
bool node_exists(const std::string& path);

}  // namespace epc::deviceplugin::sgx
