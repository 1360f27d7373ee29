// A private temporary directory for fuzz targets whose parser reads a file (the device plugin's
// --config, a kubeconfig): the input is written there and the path handed on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace epc::fuzz {

inline const std::string& temp_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/epc-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::abort();
    }
    return pattern;
  }();
  return dir;
}

// Writes the bytes to `<temp_dir>/<name>` (replacing it) and returns the path.
inline std::string write_temp_file(const std::string& name, const std::uint8_t* data,
                                   std::size_t size) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::abort();
  }
  return path;
}

}  // namespace epc::fuzz
