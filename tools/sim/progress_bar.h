#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace epc::tools::sim {

// One progress line, e.g. with width 14:
//   "fill  BestFit  seed 42  [#######.......]  53%  4,120 pods"
// `width` is the number of cells between the brackets (clamped to 0..200). `done` is clamped to
// 0..total; the bar and the percentage round down, so they show 100% only when done == total. A
// total <= 0 means there is nothing to do, which shows as complete.
std::string format_progress_line(std::string_view label, std::int64_t done, std::int64_t total,
                                 int width, std::string_view unit = "pods");

// Receives the bytes to draw.
using ProgressSink = std::function<void(std::string_view)>;

// A one-line progress bar, redrawn in place with '\r'. It draws only on a terminal, so logs, pipes
// and CI output stay free of control characters; draw it on stderr to keep stdout for results.
// Redraws are throttled to one per kRedrawInterval, cheap enough to call update() for every pod.
//
// Not thread-safe: one thread drives a bar. The sink (or FILE*) must outlive the bar.
class ProgressBar {
 public:
  static constexpr std::chrono::milliseconds kRedrawInterval{100};  // ~10 redraws a second
  static constexpr int kBarWidth = 30;
  using Clock = std::chrono::steady_clock;

  // Draws on `out` when it is a terminal (isatty), and never otherwise. `unit` names what is
  // counted ("pods", "runs").
  ProgressBar(std::FILE* out, std::string label, std::int64_t total, std::string unit = "pods");
  // Draws into `sink` when `is_terminal`, and never otherwise (tests; callers with own output).
  ProgressBar(ProgressSink sink, bool is_terminal, std::string label, std::int64_t total,
              std::string unit = "pods");
  // Finishes the line if finish() was not called, so an early return leaves the terminal tidy.
  ~ProgressBar();

  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records progress; redraws when kRedrawInterval has passed since the last redraw (the first
  // update always draws). The first overload reads Clock; the second takes the time, for tests.
  void update(std::int64_t done);
  void update(std::int64_t done, Clock::time_point now);

  // Draws the last recorded progress and ends the line. Later calls and updates do nothing.
  void finish();

  bool enabled() const { return enabled_; }

 private:
  void draw();

  ProgressSink sink_;
  bool enabled_;
  std::string label_;
  std::int64_t total_;
  std::string unit_;
  std::int64_t done_ = 0;
  std::optional<Clock::time_point> last_draw_;
  std::string last_line_;  // what is on screen, to skip identical redraws and blank leftovers
  bool finished_ = false;
};

}  // namespace epc::tools::sim
