#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "common/result.h"
#include "tools/load/extender_process.h"
#include "tools/load/load_options.h"

namespace epc::tools::load {

// A real epc-extender on loopback for one load run (ingest, soak-http): a temporary directory with
// its config and its log, and the process. The config keeps every default but the addresses
// (loopback, port 0: the extender picks free ports and prints them), http.threads when
// options.http_threads is set, and the per-stream bounds, lifted because the whole fleet shares
// one stream, as no plugin does.
//
// Destruction SIGTERMs the extender by its PID, reaps it and removes the directory (kept and named
// with options.keep_dir), on every exit path of the run.
//
// Thread-safety: none; one owner.
class LoopbackExtender {
 public:
  static common::Result<std::unique_ptr<LoopbackExtender>> start(const LoadOptions& options,
                                                                 std::ostream& log);
  ~LoopbackExtender();
  LoopbackExtender(const LoopbackExtender&) = delete;
  LoopbackExtender& operator=(const LoopbackExtender&) = delete;

  ExtenderProcess& process() { return *process_; }
  const std::string& dir() const { return dir_; }

 private:
  LoopbackExtender(std::string dir, bool keep_dir, std::ostream& log)
      : dir_(std::move(dir)), keep_dir_(keep_dir), log_(log) {}

  std::string dir_;
  bool keep_dir_;
  std::ostream& log_;
  std::unique_ptr<ExtenderProcess> process_;
};

// The YAML config LoopbackExtender writes (exposed for its test).
std::string loopback_extender_yaml(const LoadOptions& options);

}  // namespace epc::tools::load
