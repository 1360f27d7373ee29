#include "tools/load/memory_watch.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>

#include <unistd.h>

#include "tools/load/extender_process.h"

namespace epc::tools::load {

namespace {

constexpr double kKibPerMib = 1024.0;

// The number of a "Name:   1234 kB" line of /proc/PID/status; -1 when the line is missing.
std::int64_t status_kib(std::string_view text, std::string_view name) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(name) || line.size() <= name.size() || line[name.size()] != ':') {
      continue;
    }
    line.remove_prefix(name.size() + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    std::int64_t kib = -1;
    const auto [rest, ec] = std::from_chars(line.data(), line.data() + line.size(), kib);
    if (ec != std::errc{} || kib < 0) {
      return -1;
    }
    return kib;
  }
  return -1;
}

std::string mib(std::int64_t kib) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(kib) / kKibPerMib);
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

common::Result<ProcessSample> parse_proc_status(std::string_view status_text) {
  ProcessSample sample;
  sample.rss_kib = status_kib(status_text, "VmRSS");
  sample.hwm_kib = status_kib(status_text, "VmHWM");
  if (sample.rss_kib < 0 || sample.hwm_kib < 0) {
    return common::Error{sample.rss_kib < 0 ? "no VmRSS line in /proc/PID/status"
                                            : "no VmHWM line in /proc/PID/status"};
  }
  return sample;
}

common::Result<ProcessSample> sample_process(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::string status = read_file(dir + "/status");
  if (status.empty()) {
    return common::Error{"cannot read " + dir + "/status (has the process exited?)"};
  }
  auto sample = parse_proc_status(status);
  if (!sample.ok()) {
    return sample;
  }
  std::string stat = read_file(dir + "/stat");
  auto ticks = cpu_ticks_of_stat(stat);
  if (!ticks.ok()) {
    return common::Error{"cannot read " + dir + "/stat: " + ticks.error().message};
  }
  sample.value().cpu_seconds =
      static_cast<double>(*ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return sample;
}

std::string MemoryWatchResult::summary() const {
  if (samples.empty()) {
    return "RSS: no sample of pid " + std::to_string(pid) + (error.empty() ? "" : ": " + error);
  }
  std::int64_t max_kib = 0;
  for (const ProcessSample& sample : samples) {
    max_kib = std::max(max_kib, sample.rss_kib);
  }
  const ProcessSample& first = samples.front();
  const ProcessSample& last = samples.back();
  const double wall = last.at_seconds - first.at_seconds;
  const double cpu = last.cpu_seconds - first.cpu_seconds;
  char cores[96];
  std::snprintf(cores, sizeof cores, "CPU %.1f s over %.1f s (%.2f cores)", cpu, wall,
                wall > 0 ? cpu / wall : 0.0);
  std::string text = "RSS start " + mib(first.rss_kib) + " MiB, end " + mib(last.rss_kib) +
                     " MiB, max " + mib(max_kib) + " MiB (pid " + std::to_string(pid) + ", " +
                     std::to_string(samples.size()) + " samples; VmHWM at the end " +
                     mib(last.hwm_kib) + " MiB; " + cores + ")";
  if (!error.empty()) {
    text += "; watch error: " + error;
  }
  return text;
}

MemoryWatch::MemoryWatch(pid_t pid, std::chrono::milliseconds every, std::ostream& out)
    : pid_(pid), every_(every), out_(out) {
  result_.pid = pid;
}

MemoryWatch::~MemoryWatch() { (void)stop(); }

void MemoryWatch::take(std::string_view label) {
  auto sample = sample_process(pid_);
  if (!sample.ok()) {
    if (result_.error.empty()) {
      result_.error = sample.error().message;
      out_ << "rss: pid " << pid_ << " " << label << ": " << result_.error << std::endl;
    }
    return;
  }
  sample.value().at_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char line[192];
  std::snprintf(line, sizeof line,
                "rss: pid %d %s at %.1f s: VmRSS %s MiB, VmHWM %s MiB, CPU %.2f s",
                static_cast<int>(pid_), std::string(label).c_str(), sample->at_seconds,
                mib(sample->rss_kib).c_str(), mib(sample->hwm_kib).c_str(), sample->cpu_seconds);
  out_ << line << std::endl;  // flushed: a soak's trend shows while it runs
  result_.samples.push_back(*sample);
}

common::Result<bool> MemoryWatch::start() {
  const std::lock_guard lock(mutex_);
  started_ = std::chrono::steady_clock::now();
  take("start");
  if (result_.samples.empty()) {
    stopped_ = true;
    return common::Error{"--watch-pid " + std::to_string(pid_) + ": " + result_.error};
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void MemoryWatch::run() {
  std::unique_lock lock(mutex_);
  auto next = started_ + every_;
  while (!stopping_) {
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) {
      break;
    }
    take("sample");
    next += every_;
  }
}

MemoryWatchResult MemoryWatch::stop() {
  if (stopped_) {
    const std::lock_guard lock(mutex_);
    return result_;
  }
  stopped_ = true;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  const std::lock_guard lock(mutex_);
  take("end");
  return result_;
}

}  // namespace epc::tools::load
