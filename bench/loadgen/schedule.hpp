#pragma once
// When each request is due. Open loop: a fixed arrival rate, request i is due at start + i/rate
// whether or not earlier ones have finished, so a slow server shows as growing latency instead
// of a politely slower client (no coordinated omission). Closed loop: every worker sends its
// next request as soon as its previous one ends. Times are offsets from the run's start, so
// the schedule is pure and tested without a clock.
#include <chrono>
#include <cstdint>
#include <optional>

namespace loadgen {

using Nanos = std::chrono::nanoseconds;

class Schedule {
 public:
  // Requests due at 0, 1/rate, 2/rate, ... while before `end`.
  static Schedule open_loop(double rate_per_second, Nanos end);
  // Requests due "now" while now is before `end`.
  static Schedule closed_loop(Nanos end);

  // Claims the next request: its due time (open loop: the next slot, possibly in the past
  // when the workers fell behind; closed loop: `now`), or nothing once the run is over.
  std::optional<Nanos> claim(Nanos now);

  bool open() const { return rate_ > 0; }
  uint64_t claimed() const { return next_; }

 private:
  Schedule(double rate, Nanos end) : rate_(rate), end_(end) {}
  double rate_;  // 0: closed loop
  Nanos end_;
  uint64_t next_ = 0;
};

}  // namespace loadgen
