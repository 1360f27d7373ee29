#pragma once

#include <algorithm>
#include <cstdint>

namespace epc::reports {

// The message rate bound of one report stream: a token bucket that holds `burst` messages and
// refills at `rate_per_s`. A plugin sends a heartbeat every few seconds and a change per pod start
// or stop; a stream that sends faster for longer than its burst allows is a flood (a bug or an
// attack), and the service ends it rather than let it occupy the state writer.
//
// Integer arithmetic in nano-tokens (one message = 1e9), so no rounding lets a flood through:
// tokens_ ≤ burst·1e9 ≤ 1e15 and the refill is capped before it could overflow.
//
// Not thread-safe: owned by the stream's read path (one read outstanding at a time).
class StreamRateLimit {
 public:
  static constexpr std::int64_t kNanoTokensPerMessage = 1'000'000'000;
  // Both bounded by the configuration (at most 1'000'000): the products below stay far inside
  // int64.
  static constexpr std::int64_t kMaxRate = 1'000'000;

  // rate_per_s 0: no limit. A burst below 1 is taken as 1.
  StreamRateLimit(std::int64_t rate_per_s, std::int64_t burst)
      : rate_per_s_(std::clamp<std::int64_t>(rate_per_s, 0, kMaxRate)),
        capacity_(std::clamp<std::int64_t>(burst, 1, kMaxRate) * kNanoTokensPerMessage),
        tokens_(capacity_) {}

  // Takes one message's token at `now_ns` (a monotonic clock); false when the bucket is empty (the
  // message is over the rate). A refused message takes nothing.
  bool admit(std::int64_t now_ns) {
    if (rate_per_s_ == 0) {
      return true;
    }
    if (started_) {
      const std::int64_t elapsed_ns = std::max<std::int64_t>(now_ns - last_ns_, 0);
      // Past this much time the bucket is full whatever it held: cap before multiplying.
      const std::int64_t fill_ns = capacity_ / rate_per_s_ + 1;
      tokens_ = elapsed_ns >= fill_ns ? capacity_
                                      : std::min(capacity_, tokens_ + elapsed_ns * rate_per_s_);
    }
    started_ = true;
    // Never backwards: a clock that stepped back must not refill the same interval twice.
    last_ns_ = std::max(last_ns_, now_ns);
    if (tokens_ < kNanoTokensPerMessage) {
      return false;
    }
    tokens_ -= kNanoTokensPerMessage;
    return true;
  }

 private:
  const std::int64_t rate_per_s_;
  const std::int64_t capacity_;  // nano-tokens
  std::int64_t tokens_;          // nano-tokens
  std::int64_t last_ns_ = 0;
  bool started_ = false;
};

}  // namespace epc::reports
