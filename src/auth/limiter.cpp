#include "auth/limiter.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace hydra::auth {

void SlidingWindow::prune(SteadyTime now) {
  while (!entries_.empty() && entries_.front().first + span_ <= now) {
    sum_ -= entries_.front().second;
    entries_.pop_front();
  }
}

void SlidingWindow::add(SteadyTime now, uint64_t amount) {
  prune(now);
  sum_ += amount;
  if (!entries_.empty() && now - entries_.back().first < merge_) entries_.back().second += amount;
  else entries_.emplace_back(now, amount);
}

uint64_t SlidingWindow::total(SteadyTime now) {
  prune(now);
  return sum_;
}

Nanos SlidingWindow::until_below(SteadyTime now, uint64_t limit) {
  prune(now);
  uint64_t sum = sum_;
  for (const auto& [at, amount] : entries_) {
    if (sum < limit) break;
    sum -= amount;
    if (sum < limit) return at + span_ - now;
  }
  return Nanos(0);
}

void SlidingWindow::take_back(uint64_t amount) {
  if (entries_.empty()) return;
  auto& newest = entries_.back().second;
  const uint64_t n = std::min(amount, newest);
  newest -= n;
  sum_ -= n;
  if (newest == 0) entries_.pop_back();
}

Nanos SlidingWindow::until_oldest_leaves(SteadyTime now) {
  prune(now);
  return entries_.empty() ? Nanos(0) : entries_.front().first + span_ - now;
}

Nanos SlidingWindow::until_empty(SteadyTime now) {
  prune(now);
  return entries_.empty() ? Nanos(0) : entries_.back().first + span_ - now;
}

const char* to_string(Refusal r) {
  switch (r) {
    case Refusal::none: return "none";
    case Refusal::missing_key: return "missing_key";
    case Refusal::unknown_key: return "unknown_key";
    case Refusal::not_admin: return "not_admin";
    case Refusal::model: return "model";
    case Refusal::rpm: return "rpm";
    case Refusal::tpm: return "tpm";
    case Refusal::concurrency: return "concurrency";
  }
  return "none";
}

Verdict Limiter::admit(const Key& key, SteadyTime now) {
  std::lock_guard lock(mutex_);
  Usage& u = usage_[key.name];
  KeyStats& s = stats_[key.name];
  Verdict v;
  if (key.max_concurrent && s.in_progress >= key.max_concurrent) {
    v = {Refusal::concurrency, std::chrono::seconds(1)};
  } else if (key.rpm && u.requests.total(now) >= key.rpm) {
    v = {Refusal::rpm, u.requests.until_below(now, key.rpm)};
  } else if (key.tpm && u.tokens.total(now) >= key.tpm) {
    v = {Refusal::tpm, u.tokens.until_below(now, key.tpm)};
  }
  if (!v) {
    ++s.refused[to_string(v.refusal)];
    return v;
  }
  if (key.rpm) u.requests.add(now, 1);
  ++s.requests;
  ++s.in_progress;
  return v;
}

void Limiter::finish(const Key& key) {
  std::lock_guard lock(mutex_);
  auto it = stats_.find(key.name);
  if (it != stats_.end() && it->second.in_progress > 0) --it->second.in_progress;
}

void Limiter::take_back(const Key& key) {
  std::lock_guard lock(mutex_);
  if (key.rpm) usage_[key.name].requests.take_back(1);
  if (auto it = stats_.find(key.name); it != stats_.end() && it->second.requests > 0) --it->second.requests;
}

void Limiter::add_tokens(const Key& key, uint64_t tokens, SteadyTime now) {
  std::lock_guard lock(mutex_);
  if (tokens == 0) return;
  stats_[key.name].tokens += tokens;
  if (key.tpm) usage_[key.name].tokens.add(now, tokens);
}

void Limiter::count_refusal(std::string_view key_name, Refusal why) {
  std::lock_guard lock(mutex_);
  auto it = stats_.find(key_name);
  if (it == stats_.end()) it = stats_.emplace(std::string(key_name), KeyStats{}).first;
  ++it->second.refused[to_string(why)];
}

RateHeaders Limiter::headers(const Key& key, SteadyTime now) {
  std::lock_guard lock(mutex_);
  RateHeaders h;
  if (!key.rpm && !key.tpm) return h;
  Usage& u = usage_[key.name];
  if (key.rpm) {
    const uint64_t used = u.requests.total(now);
    h.fields.emplace_back("x-ratelimit-limit-requests", std::to_string(key.rpm));
    h.fields.emplace_back("x-ratelimit-remaining-requests", std::to_string(used >= key.rpm ? 0 : key.rpm - used));
    h.fields.emplace_back("x-ratelimit-reset-requests", reset_text(u.requests.until_empty(now)));
  }
  if (key.tpm) {
    const uint64_t used = u.tokens.total(now);
    h.fields.emplace_back("x-ratelimit-limit-tokens", std::to_string(key.tpm));
    h.fields.emplace_back("x-ratelimit-remaining-tokens", std::to_string(used >= key.tpm ? 0 : key.tpm - used));
    h.fields.emplace_back("x-ratelimit-reset-tokens", reset_text(u.tokens.until_empty(now)));
  }
  return h;
}

std::string reset_text(Nanos d) {
  const int64_t ms = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  if (ms < 1000) return fmt::format("{}ms", ms);
  const int64_t minutes = ms / 60'000;
  const double seconds = static_cast<double>(ms % 60'000) / 1000.0;
  if (minutes > 0) return fmt::format("{}m{:g}s", minutes, seconds);
  return fmt::format("{:g}s", seconds);
}

int64_t retry_after_seconds(Nanos d) {
  const double s = std::chrono::duration<double>(d).count();
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(s)));
}

std::map<std::string, KeyStats, std::less<>> Limiter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace hydra::auth
