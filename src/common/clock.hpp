#pragma once
// Time sources, injected so that state machines and policies can be tested with simulated time.
#include <chrono>
#include <mutex>

namespace hydra {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Nanos = std::chrono::nanoseconds;

// Owners hold a Clock by reference; the clock outlives them.
class Clock {
public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;  // for intervals and deadlines
  virtual WallTime wall() const = 0;   // for timestamps shown to people
  // Wall-clock equivalent of a steady time point (for `expires_at` and the like).
  WallTime to_wall(SteadyTime t) const {
    return wall() + std::chrono::duration_cast<WallTime::duration>(t - now());
  }
};

class SystemClock final : public Clock {
public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to: tests advance it explicitly.
class ManualClock final : public Clock {
public:
  ManualClock() : steady_(std::chrono::hours(1000)), wall_(std::chrono::hours(24 * 365 * 56)) {}
  SteadyTime now() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  WallTime wall() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  void advance(Nanos d) {
    std::lock_guard lock(mu_);
    steady_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

private:
  mutable std::mutex mu_;
  SteadyTime steady_;
  WallTime wall_;
};

}  // namespace hydra
