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

namespace {
std::size_t common_prefix(const Tokens& a, const Tokens& b) {
  auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<std::size_t>(mismatch.first - a.begin());
}
}  // namespace

PromptCache::Taken PromptCache::take(const Tokens& prompt) {
  Taken taken = multiuser_ ? take_best(prompt) : take_longest(prompt);
  if (taken.slot >= 0) {
    Slot& s = slots_[static_cast<std::size_t>(taken.slot)];
    s.busy = true;
    s.used = ++clock_;
  }
  return taken;
}

PromptCache::Taken PromptCache::take_best(const Tokens& prompt) {
  Taken taken;
  std::size_t longest = 0;
  const Slot* oldest = nullptr;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    const std::size_t common = common_prefix(prompt, s.tokens);
    longest = std::max(longest, common);
    if (!s.busy && common == s.tokens.size() && !s.tokens.empty() && common > taken.reused) {
      taken.slot = static_cast<int>(i);  // its whole content begins the prompt: nothing is lost
      taken.reused = common;
    }
    if (!s.busy && (!oldest || s.used < oldest->used)) oldest = &s;
  }
  if (taken.slot >= 0 && taken.reused == longest) return taken;
  if (!oldest) return {};
  // The oldest free slot, with the longest shared prefix copied in from wherever it is.
  taken.slot = static_cast<int>(oldest - slots_.data());
  taken.reused = longest;
  return taken;
}

PromptCache::Taken PromptCache::take_longest(const Tokens& prompt) {
  Taken best;
  uint64_t best_used = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.busy) continue;
    const std::size_t common = common_prefix(prompt, s.tokens);
    if (best.slot < 0 || common > best.reused || (common == best.reused && s.used < best_used)) {
      best.slot = static_cast<int>(i);
      best.reused = common;
      best_used = s.used;
    }
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
