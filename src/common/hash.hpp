#pragma once
// Small stable hashes (FNV-1a, splitmix64): deterministic across runs and machines,
// unlike std::hash. Used where output must be reproducible (sim text, digests).
#include <cstdint>
#include <string>
#include <string_view>

namespace hydra {

constexpr uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// A tiny deterministic PRNG (splitmix64).
class SplitMix {
public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

private:
  uint64_t state_;
};

// A sha256-looking hex digest (64 hex chars) derived from a string; not cryptographic.
std::string pseudo_digest(std::string_view s);

}  // namespace hydra
