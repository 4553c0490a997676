#include "sim/prompt_cache.hpp"

#include <algorithm>
#include <cctype>
#include <functional>

namespace hydra::sim {

void append_tokens(Tokens& out, std::string_view role, std::string_view text) {
  bool first = true;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t end = i;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    if (end == i) break;
    uint64_t h = std::hash<std::string_view>{}(text.substr(i, end - i));
    if (first) h ^= std::hash<std::string_view>{}(role) * 0x9e3779b97f4a7c15ULL;
    out.push_back(h);
    first = false;
    i = end;
  }
}

PromptCache::Taken PromptCache::take(const Tokens& prompt) {
  Taken best;
  uint64_t best_used = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.busy) continue;
    auto mismatch = std::mismatch(prompt.begin(), prompt.end(), s.tokens.begin(), s.tokens.end());
    const auto common = static_cast<std::size_t>(mismatch.first - prompt.begin());
    if (best.slot < 0 || common > best.reused || (common == best.reused && s.used < best_used)) {
      best.slot = static_cast<int>(i);
      best.reused = common;
      best_used = s.used;
    }
  }
  if (best.slot >= 0) {
    Slot& s = slots_[static_cast<std::size_t>(best.slot)];
    s.busy = true;
    s.used = ++clock_;
  }
  return best;
}

void PromptCache::give_back(int slot, Tokens tokens) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= slots_.size()) return;
  Slot& s = slots_[static_cast<std::size_t>(slot)];
  s.busy = false;
  s.tokens = std::move(tokens);
}

void PromptCache::clear() {
  for (auto& s : slots_) s.tokens.clear();
}

}  // namespace hydra::sim
