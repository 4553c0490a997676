#pragma once
// Randomness for tie-breaking, injected so policies are deterministic under test.
#include "common/fast_random.hpp"

#include <cstdint>
#include <vector>

namespace hydra::routing {

class Random {
public:
  virtual ~Random() = default;
  virtual uint64_t next() = 0;
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
};

class SystemRandom final : public Random {
public:
  SystemRandom() = default;
  uint64_t next() override { return engine_(); }

private:
  FastRandom engine_;
};

// Returns the given values in turn (then repeats): for tests.
class ScriptedRandom final : public Random {
public:
  explicit ScriptedRandom(std::vector<uint64_t> values) : values_(std::move(values)) {}
  uint64_t next() override { return values_.empty() ? 0 : values_[i_++ % values_.size()]; }

private:
  std::vector<uint64_t> values_;
  std::size_t i_ = 0;
};

}  // namespace hydra::routing
