#include "schedule.hpp"

#include <cmath>

namespace loadgen {

Schedule Schedule::open_loop(double rate_per_second, Nanos end) { return Schedule(rate_per_second, end); }
Schedule Schedule::closed_loop(Nanos end) { return Schedule(0, end); }

std::optional<Nanos> Schedule::claim(Nanos now) {
  if (rate_ <= 0) {
    if (now >= end_) return std::nullopt;
    ++next_;
    return now;
  }
  // Computed from the index, not accumulated, so rounding never drifts over a long run.
  auto due = Nanos(static_cast<int64_t>(std::llround(static_cast<double>(next_) * 1e9 / rate_)));
  if (due >= end_) return std::nullopt;
  ++next_;
  return due;
}

}  // namespace loadgen
