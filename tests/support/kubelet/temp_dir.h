#pragma once

#include <string>

namespace epc::test_support {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// Names stay short: unix socket paths inside must fit in 107 characters.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "epc");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + relative
  std::string file(const std::string& relative) const;

 private:
  std::string path_;
};

}  // namespace epc::test_support
