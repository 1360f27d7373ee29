#include "tools/sim/progress_bar.h"

#include <algorithm>
#include <utility>

#include <unistd.h>

namespace epc::tools::sim {

namespace {

constexpr int kMaxWidth = 200;

// "4,120"
std::string with_thousands(std::int64_t value) {
  std::string digits = std::to_string(value);
  const std::size_t first_digit = digits.front() == '-' ? 1 : 0;
  for (std::size_t i = digits.size(); i > first_digit + 3; i -= 3) {
    digits.insert(i - 3, 1, ',');
  }
  return digits;
}

// floor(done * scale / total) for 0 <= done <= total, total > 0 and scale <= kMaxWidth. Totals
// above 2^52 are first shifted down (losing only precision no bar can show), so the product stays
// below 2^52 * 200 < 2^63.
std::int64_t scaled(std::int64_t done, std::int64_t total, std::int64_t scale) {
  while (total > (std::int64_t{1} << 52)) {
    done >>= 1;
    total >>= 1;
  }
  return done * scale / total;
}

}  // namespace

std::string format_progress_line(std::string_view label, std::int64_t done, std::int64_t total,
                                 int width, std::string_view unit) {
  const std::int64_t cells = std::clamp(width, 0, kMaxWidth);
  std::int64_t filled = cells;
  std::int64_t percent = 100;
  if (total > 0) {
    const std::int64_t clamped = std::clamp<std::int64_t>(done, 0, total);
    filled = scaled(clamped, total, cells);
    percent = scaled(clamped, total, 100);
  }
  std::string line(label);
  line += "  [";
  line.append(static_cast<std::size_t>(filled), '#');
  line.append(static_cast<std::size_t>(cells - filled), '.');
  line += "] ";
  // Right-aligned in 4 columns so the count does not shift as the percentage grows.
  const std::string percent_text = std::to_string(percent) + "%";
  line.append(4 - percent_text.size(), ' ');
  line += percent_text;
  line += "  ";
  line += with_thousands(done);
  line += " ";
  line += unit;
  return line;
}

ProgressBar::ProgressBar(std::FILE* out, std::string label, std::int64_t total, std::string unit)
    : ProgressBar(
          [out](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), out);
            std::fflush(out);
          },
          out != nullptr && isatty(fileno(out)) == 1, std::move(label), total, std::move(unit)) {}

ProgressBar::ProgressBar(ProgressSink sink, bool is_terminal, std::string label, std::int64_t total,
                         std::string unit)
    : sink_(std::move(sink)),
      enabled_(is_terminal),
      label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)) {}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {  // a destructor must not throw; losing the last redraw is harmless
  }
}

void ProgressBar::update(std::int64_t done) { update(done, Clock::now()); }

void ProgressBar::update(std::int64_t done, Clock::time_point now) {
  done_ = done;
  if (!enabled_ || finished_) {
    return;
  }
  if (last_draw_.has_value() && now - *last_draw_ < kRedrawInterval) {
    return;
  }
  last_draw_ = now;
  draw();
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) {
    return;
  }
  finished_ = true;
  draw();
  sink_("\n");
}

void ProgressBar::draw() {
  std::string line = format_progress_line(label_, done_, total_, kBarWidth, unit_);
  if (line == last_line_) {
    return;
  }
  std::string text = "\r" + line;
  if (line.size() < last_line_.size()) {
    text.append(last_line_.size() - line.size(), ' ');  // blank what the longer line left behind
  }
  sink_(text);
  last_line_ = std::move(line);
}

}  // namespace epc::tools::sim
