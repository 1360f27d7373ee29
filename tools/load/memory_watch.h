#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "common/result.h"

namespace epc::tools::load {

// One look at a process: its resident set now and at its peak, and the CPU it has used.
struct ProcessSample {
  double at_seconds = 0;     // since the watch started
  std::int64_t rss_kib = 0;  // VmRSS of /proc/PID/status
  std::int64_t hwm_kib = 0;  // VmHWM: the peak VmRSS since the process started
  double cpu_seconds = 0;    // utime + stime of /proc/PID/stat, all threads
};

// VmRSS and VmHWM (kB) out of a /proc/PID/status text; an error names the missing field.
common::Result<ProcessSample> parse_proc_status(std::string_view status_text);

// Reads /proc/PID/status and /proc/PID/stat now.
common::Result<ProcessSample> sample_process(pid_t pid);

// What a watch saw: every sample in order, and the first error (a process that went away).
struct MemoryWatchResult {
  pid_t pid = -1;
  std::vector<ProcessSample> samples;
  std::string error;

  // "RSS start X MiB, end Y MiB, max Z MiB" and what it rests on (samples, VmHWM, CPU).
  std::string summary() const;
};

// Watches a process's memory while a load runs: a sample at start(), one every `every` on a
// thread of its own, and one at stop(); each printed to `out` as a line when it is taken
// ("rss: pid P at T s: VmRSS ... MiB, VmHWM ... MiB, CPU ... s"), so a long soak shows its
// trend as it goes and a killed run still leaves its lines. The process is only read, never
// signalled.
//
// Thread-safety: start() and stop() from one thread; `out` is written by the watch's thread
// between them, so the caller writes elsewhere (or nothing) to it meanwhile.
class MemoryWatch {
 public:
  MemoryWatch(pid_t pid, std::chrono::milliseconds every, std::ostream& out);
  ~MemoryWatch();
  MemoryWatch(const MemoryWatch&) = delete;
  MemoryWatch& operator=(const MemoryWatch&) = delete;

  // Takes the first sample (an error when the process cannot be read) and starts the thread.
  common::Result<bool> start();
  // Takes the last sample, stops the thread and returns every sample. Idempotent.
  MemoryWatchResult stop();

 private:
  void take(std::string_view label);  // one sample, printed; mutex_ held
  void run();

  const pid_t pid_;
  const std::chrono::milliseconds every_;
  std::ostream& out_;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;     // guarded by mutex_
  bool stopped_ = false;      // caller thread only
  MemoryWatchResult result_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace epc::tools::load
