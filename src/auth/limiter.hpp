#pragma once
// Per-key limits (requests and generated tokens per minute as sliding windows, requests in
// progress) and per-key accounting (requests, tokens, refusals by reason). Pure: time is passed
// in. Single-threaded: the gateway's thread owns it.
#include "auth/keys.hpp"
#include "common/clock.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace hydra::auth {

// Amounts added over the last `span`; entries closer than `merge` are summed into one, so the
// window holds at most span/merge entries whatever the traffic.
class SlidingWindow {
public:
  explicit SlidingWindow(Nanos span = std::chrono::minutes(1), Nanos merge = Nanos(0)) : span_(span), merge_(merge) {}
  void add(SteadyTime now, uint64_t amount);
  uint64_t total(SteadyTime now);
  // How long until the total is below `limit` (zero when it already is).
  Nanos until_below(SteadyTime now, uint64_t limit);
  // Takes back `amount` of the newest entry (a request refused after it was counted).
  void take_back(uint64_t amount);
  // How long until the oldest entry leaves the window (zero when empty).
  Nanos until_oldest_leaves(SteadyTime now);
  // How long until every entry has left (the limit is whole again; zero when empty).
  Nanos until_empty(SteadyTime now);

private:
  void prune(SteadyTime now);
  Nanos span_, merge_;
  std::deque<std::pair<SteadyTime, uint64_t>> entries_;
  uint64_t sum_ = 0;
};

enum class Refusal { none, missing_key, unknown_key, not_admin, model, rpm, tpm, concurrency };
const char* to_string(Refusal r);

struct Verdict {
  Refusal refusal = Refusal::none;
  Nanos retry_after{0};  // for rpm, tpm and concurrency refusals
  explicit operator bool() const { return refusal == Refusal::none; }
};

// OpenAI's rate-limit headers for one key at one moment: x-ratelimit-{limit,remaining,reset}-
// {requests,tokens}, reset being the time until the window is empty (the whole limit is
// available again; Retry-After says when the next request may go). Only the halves the key has
// limits for.
struct RateHeaders {
  std::vector<std::pair<std::string, std::string>> fields;
};

// What a key did since start-up, for /stats and /metrics.
struct KeyStats {
  uint64_t requests = 0;
  uint64_t tokens = 0;
  uint32_t in_progress = 0;
  std::map<std::string, uint64_t> refused;  // by reason
};

// Safe on every thread: a mutex held for a few map operations per call (requests with keys
// are admitted on the worker that serves them).
class Limiter {
public:
  // Counts one request against `key`'s limits, or refuses it; on success the caller must call
  // finish() when the request ends.
  Verdict admit(const Key& key, SteadyTime now);
  void finish(const Key& key);
  // A request admitted, then refused for a reason of its own (a model the key may not use):
  // it does not count against the key's requests.
  void take_back(const Key& key);
  void add_tokens(const Key& key, uint64_t tokens, SteadyTime now);
  // A refusal decided elsewhere (no key, unknown key, a model the key may not use); `key_name`
  // is empty when no configured key was presented.
  void count_refusal(std::string_view key_name, Refusal why);
  RateHeaders headers(const Key& key, SteadyTime now);
  std::map<std::string, KeyStats, std::less<>> stats() const;  // a copy

private:
  struct Usage {
    SlidingWindow requests;
    SlidingWindow tokens{std::chrono::minutes(1), std::chrono::seconds(1)};
  };
  mutable std::mutex mutex_;  // guards usage_ and stats_
  std::map<std::string, Usage, std::less<>> usage_;
  std::map<std::string, KeyStats, std::less<>> stats_;
};

// "20ms", "1.5s", "1m0s": the duration format of OpenAI's x-ratelimit-reset-* headers.
std::string reset_text(Nanos d);
// Whole seconds for Retry-After, rounded up (at least 1).
int64_t retry_after_seconds(Nanos d);

}  // namespace hydra::auth
