#include "deviceplugin/sgx/root_fs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace epc::deviceplugin::sgx {

namespace {

constexpr std::size_t kExcerptChars = 40;
constexpr std::size_t kReadChunkBytes = 4096;

common::Error io_error(const std::string& path, const char* what, int err) {
  return common::Error{path + ": " + what + ": " + std::strerror(err)};
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reads up to `max_bytes + 1` bytes so the caller can tell "exactly max" from "more than max".
common::Result<std::optional<std::string>> read_up_to(const std::string& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<std::string>{};
    }
    return io_error(path, "cannot open", errno);
  }
  std::string out;
  char chunk[kReadChunkBytes];
  while (out.size() < limit) {
    const std::size_t want = std::min(sizeof(chunk), limit - out.size());
    const ssize_t got = ::read(fd, chunk, want);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::close(fd);
      return io_error(path, "cannot read", err);
    }
    if (got == 0) {
      break;
    }
    out.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return std::optional<std::string>{std::move(out)};
}

}  // namespace

std::string rooted(std::string_view root, std::string_view path) {
  std::string out(root);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  if (path.empty() || path.front() != '/') {
    out.push_back('/');
  }
  out.append(path);
  return out;
}

common::Result<std::optional<std::string>> read_file_prefix(const std::string& path,
                                                            std::size_t max_bytes) {
  return read_up_to(path, max_bytes);
}

common::Result<std::optional<std::string>> read_small_file(const std::string& path,
                                                           std::size_t max_bytes) {
  auto content = read_up_to(path, max_bytes + 1);
  if (content.ok() && content->has_value() && (*content)->size() > max_bytes) {
    return common::Error{path + ": larger than " + std::to_string(max_bytes) +
                         " bytes, not a value file"};
  }
  return content;
}

common::Result<std::uint64_t> parse_u64(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin])) {
    ++begin;
  }
  while (end > begin && is_space(text[end - 1])) {
    --end;
  }
  if (begin == end) {
    return common::Error{"expected a decimal number, found nothing"};
  }
  std::uint64_t value = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return common::Error{"expected a decimal number, found '" + excerpt(text) + "'"};
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) {
      return common::Error{"number out of range: '" + excerpt(text) + "'"};
    }
    value = value * 10 + digit;
  }
  return value;
}

std::string excerpt(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kExcerptChars)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u >= 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (text.size() > kExcerptChars) {
    out += "...";
  }
  return out;
}

bool node_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

}  // namespace epc::deviceplugin::sgx
