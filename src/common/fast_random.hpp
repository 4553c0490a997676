#pragma once
// A fast 64-bit generator for what needs spread, not secrecy (request ids, routing's
// tie-breaks): xoshiro256** (Blackman and Vigna), seeded from std::random_device through
// splitmix64. A few instructions per number where std::mt19937_64 takes dozens and refills a
// 2.5 KiB state every 312 numbers.
#include <cstdint>
#include <random>

namespace hydra {

class FastRandom {
public:
  FastRandom() : FastRandom((static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()) {}
  explicit FastRandom(uint64_t seed) {
    for (auto& word : s_) {  // splitmix64: any seed, zero included, gives a non-zero state
      seed += 0x9e3779b97f4a7c15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      word = z ^ (z >> 31);
    }
  }

  uint64_t operator()() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace hydra
