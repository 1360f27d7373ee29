#include "extender/core/score/top_tie_break.h"

#include <algorithm>
#include <cstddef>

namespace epc::core::score {
namespace {

// splitmix64's finaliser: consecutive keys map to unrelated values.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

void single_out_top_score(std::span<std::int64_t> scores, std::span<const std::uint64_t> keys,
                          std::uint64_t salt) {
  const std::size_t count = std::min(scores.size(), keys.size());
  if (count < 2) {
    return;
  }
  const std::int64_t top =
      *std::max_element(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(count));
  if (top <= 0) {
    return;
  }
  std::size_t keep = count;
  std::uint64_t keep_hash = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (scores[i] != top) {
      continue;
    }
    const std::uint64_t hash = tie_break_rank(salt, keys[i]);
    if (keep == count || hash < keep_hash) {
      keep = i;
      keep_hash = hash;
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (scores[i] == top && i != keep) {
      scores[i] = top - 1;
    }
  }
}

std::uint64_t tie_break_rank(std::uint64_t salt, std::uint64_t key) { return mix(salt ^ mix(key)); }

std::uint64_t stable_hash(std::span<const char> text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return mix(hash);
}

}  // namespace epc::core::score
