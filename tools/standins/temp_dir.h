#pragma once

#include <string>
#include <variant>

#include "common/result.h"

namespace epc::tools::standins {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// Names stay short: unix socket paths inside must fit in 107 characters.
//
// Creation cannot fail loudly from a constructor (errors are values): when mkdtemp fails, path()
// is empty and status() says why. Callers that go on to use the directory check status() first.
//
// Thread-safety: const functions from any thread.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "epc");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + relative
  std::string file(const std::string& relative) const;
  // The creation failure, if any.
  common::Result<std::monostate> status() const;

 private:
  std::string path_;
  std::string error_;  // empty when the directory exists
};

}  // namespace epc::tools::standins
