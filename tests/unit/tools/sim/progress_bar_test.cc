#include "tools/sim/progress_bar.h"

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace epc::tools::sim {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// format_progress_line

struct FormatRow {
  std::string_view name;
  std::int64_t done;
  std::int64_t total;
  int width;
  std::string_view want;
};

TEST(FormatProgressLineTest, Table) {
  const FormatRow rows[] = {
      // 4120 / 7760 = 0.531: 14 cells · 0.531 = 7.43 -> 7 filled; 53%.
      {"Example", 4120, 7760, 14, "fill  BestFit  seed 42  [#######.......]  53%  4,120 pods"},
      {"Start", 0, 100, 10, "fill  BestFit  seed 42  [..........]   0%  0 pods"},
      // 999 / 1000 rounds down: the bar is full and shows 100% only when all is done.
      {"AlmostDone", 999, 1000, 10, "fill  BestFit  seed 42  [#########.]  99%  999 pods"},
      {"Done", 1000, 1000, 10, "fill  BestFit  seed 42  [##########] 100%  1,000 pods"},
      // Past the total: the bar stops at full, the count tells the truth.
      {"Overshoot", 1500, 1000, 4, "fill  BestFit  seed 42  [####] 100%  1,500 pods"},
      {"NothingToDo", 0, 0, 4, "fill  BestFit  seed 42  [####] 100%  0 pods"},
      {"NoBar", 5, 10, 0, "fill  BestFit  seed 42  []  50%  5 pods"},
      {"MillionsGetSeparators", 1234567, 2000000, 2,
       "fill  BestFit  seed 42  [#.]  61%  1,234,567 pods"},  // 1234567 / 2e6 = 0.617
      // Totals near int64's range do not overflow: 2^61 / 2^62 = 50%.
      {"HugeTotal", std::int64_t{1} << 61, std::int64_t{1} << 62, 2,
       "fill  BestFit  seed 42  [#.]  50%  2,305,843,009,213,693,952 pods"},
  };
  for (const FormatRow& row : rows) {
    EXPECT_EQ(format_progress_line("fill  BestFit  seed 42", row.done, row.total, row.width),
              row.want)
        << row.name;
  }
}

TEST(FormatProgressLineTest, UnitAndWidthClamp) {
  EXPECT_EQ(format_progress_line("churn", 3, 4, 4, "events"), "churn  [###.]  75%  3 events");
  // Widths beyond 200 cells are clamped: no terminal is that wide.
  EXPECT_EQ(format_progress_line("x", 1, 1, 1000).size(),
            format_progress_line("x", 1, 1, 200).size());
}

// ---------------------------------------------------------------------------------------------
// ProgressBar

class ProgressBarTest : public testing::Test {
 protected:
  ProgressSink sink() {
    return [this](std::string_view text) { out_ += text; };
  }
  const ProgressBar::Clock::time_point t0_ =
      ProgressBar::Clock::time_point{} + std::chrono::hours(1);
  std::string out_;
};

TEST_F(ProgressBarTest, SilentWhenNotATerminal) {
  {
    ProgressBar bar(sink(), /*is_terminal=*/false, "fill", 10);
    EXPECT_FALSE(bar.enabled());
    bar.update(5, t0_);
    bar.finish();
  }
  EXPECT_EQ(out_, "");
}

TEST_F(ProgressBarTest, RedrawsAtMostEveryHundredMilliseconds) {
  ProgressBar bar(sink(), /*is_terminal=*/true, "fill", 10);
  bar.update(1, t0_);  // the first update always draws
  EXPECT_EQ(out_, "\r" + format_progress_line("fill", 1, 10, ProgressBar::kBarWidth));
  out_.clear();
  bar.update(2, t0_ + milliseconds(50));
  bar.update(3, t0_ + milliseconds(99));
  EXPECT_EQ(out_, "");  // within 100 ms of the last draw
  bar.update(4, t0_ + milliseconds(100));
  EXPECT_EQ(out_, "\r" + format_progress_line("fill", 4, 10, ProgressBar::kBarWidth));
  out_.clear();
  bar.update(4, t0_ + milliseconds(300));
  EXPECT_EQ(out_, "");  // nothing changed on screen
}

TEST_F(ProgressBarTest, FinishDrawsTheLastStateAndEndsTheLine) {
  ProgressBar bar(sink(), /*is_terminal=*/true, "fill", 10);
  bar.update(1, t0_);
  bar.update(10, t0_ + milliseconds(1));  // throttled, but finish() shows it
  out_.clear();
  bar.finish();
  EXPECT_EQ(out_, "\r" + format_progress_line("fill", 10, 10, ProgressBar::kBarWidth) + "\n");
  out_.clear();
  bar.update(11, t0_ + milliseconds(500));
  bar.finish();
  EXPECT_EQ(out_, "");  // a finished bar stays finished
}

TEST_F(ProgressBarTest, ShorterLineBlanksTheLeftovers) {
  // The count shrinks from "1,000 pods" to "5 pods" when progress restarts: 4 characters shorter.
  ProgressBar bar(sink(), /*is_terminal=*/true, "x", 1000);
  bar.update(1000, t0_);
  out_.clear();
  bar.update(5, t0_ + milliseconds(100));
  EXPECT_EQ(out_, "\r" + format_progress_line("x", 5, 1000, ProgressBar::kBarWidth) + "    ");
}

TEST_F(ProgressBarTest, DestructorEndsAnUnfinishedLine) {
  {
    ProgressBar bar(sink(), /*is_terminal=*/true, "fill", 10);
    bar.update(3, t0_);
  }
  EXPECT_EQ(out_, "\r" + format_progress_line("fill", 3, 10, ProgressBar::kBarWidth) + "\n");
}

TEST_F(ProgressBarTest, UnitIsShown) {
  ProgressBar bar(sink(), /*is_terminal=*/true, "study", 40, "runs");
  bar.update(10, t0_);
  EXPECT_EQ(out_, "\rstudy  [" + std::string(7, '#') + std::string(23, '.') + "]  25%  10 runs");
}

TEST_F(ProgressBarTest, FileThatIsNotATerminalStaysSilent) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    ProgressBar bar(file, "fill", 10);
    EXPECT_FALSE(bar.enabled());
    bar.update(5);
    bar.finish();
  }
  EXPECT_EQ(std::ftell(file), 0);
  std::fclose(file);
}

}  // namespace
}  // namespace epc::tools::sim
