#include "common/hash.hpp"

#include <fmt/format.h>

namespace hydra {

std::string pseudo_digest(std::string_view s) {
  SplitMix rng(fnv1a(s));
  std::string out;
  out.reserve(64);
  for (int i = 0; i < 4; ++i) out += fmt::format("{:016x}", rng.next());
  return out;
}

}  // namespace hydra
