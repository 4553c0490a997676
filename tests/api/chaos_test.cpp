// Chaos: a mixed load of streamed and whole chat, generate and OpenAI requests through `hydra
// serve` while faults rotate over three `hydra sim` processes (kill, freeze, errors before the
// first byte, cuts and error lines after some tokens, slowness, restart), one at a time.
// Every request must get
// its whole answer, every stream must end with done (none silently truncated), the text of
// every reply, continued or not, must equal the uninterrupted reference, no node may run more
// than its slots, and the gateway's memory must stay bounded.
#include "support/fleet.hpp"
#include "support/streams.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <thread>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

constexpr const char* kModel = "llama3.2:3b";
constexpr int kSlots = 4;
constexpr int kPrompts = 8;
constexpr auto kLoad = seconds(30);      // how long the load runs
constexpr auto kFaultEvery = milliseconds(1500);

#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssSlackKiB = 512 * 1024;  // ASan's quarantine holds freed memory
#else
constexpr long kRssSlackKiB = 48 * 1024;
#endif

long rss_kib(pid_t pid) { return status_kib(pid, "VmRSS"); }

// The text after the speaker's name: a sim's replies start with its own name, and the words
// after it depend only on model, conversation and seed, so they are the same on every sim.
std::string after_name(const std::string& text) {
  auto colon = text.find(':');
  return colon == std::string::npos ? "<no name> " + text : text.substr(colon);
}

enum Kind { chat_stream, chat_whole, gen_stream, gen_whole, raw_stream, openai_stream, openai_whole, kinds };

const char* kind_name(int k) {
  static const char* names[] = {"chat stream", "chat", "generate stream", "generate", "raw generate stream",
                                "openai stream", "openai"};
  return names[k];
}

std::string prompt_of(int p) { return fmt::format("chaos question {}", p); }
std::string raw_prompt_of(int p) { return fmt::format("[INST] chaos question {} [/INST]", p); }

HttpCall call_for(int kind, int p) {
  HttpCall c;
  c.method = "POST";
  c.timeout = seconds(40);
  const std::string messages = fmt::format(R"([{{"role":"user","content":"{}"}}])", prompt_of(p));
  switch (kind) {
    case chat_stream:
    case chat_whole:
      c.target = "/api/chat";
      c.body = fmt::format(R"({{"model":"{}","messages":{},"stream":{}}})", kModel, messages, kind == chat_stream);
      break;
    case gen_stream:
    case gen_whole:
      c.target = "/api/generate";
      c.body = fmt::format(R"({{"model":"{}","prompt":"{}","stream":{}}})", kModel, prompt_of(p), kind == gen_stream);
      break;
    case raw_stream:
      c.target = "/api/generate";
      c.body = fmt::format(R"({{"model":"{}","prompt":"{}","raw":true}})", kModel, raw_prompt_of(p));
      break;
    default:
      c.target = "/v1/chat/completions";
      c.body = fmt::format(R"({{"model":"{}","messages":{},"stream":{}}})", kModel, messages, kind == openai_stream);
  }
  return c;
}

struct Tally {
  std::mutex mu;
  int requests = 0, continued = 0, raw_bare_name = 0;
  std::vector<std::string> problems;
  void problem(std::string p) {
    std::lock_guard lock(mu);
    if (problems.size() < 20) problems.push_back(std::move(p));
  }
};

// Checks one reply against the reference texts; returns whether it was continued.
void check(Tally& t, int kind, int p, const HttpReply& r, const std::vector<std::string>& ref,
           const std::vector<std::string>& raw_ref) {
  const std::string& expected = kind == raw_stream ? raw_ref[p] : ref[p];
  const std::string what = fmt::format("{} #{}", kind_name(kind), p);
  if (r.status != 200 || !r.complete) {
    t.problem(fmt::format("{}: status {} complete {} error '{}' body {}", what, r.status, r.complete, r.error,
                          r.body.substr(0, 300)));
    return;
  }
  std::string text;
  bool continued = false, bare_name = false;
  if (kind == openai_stream) {
    SseText s = parse_sse(r.body);
    if (s.error || !s.done || s.torn) return t.problem(fmt::format("{}: stream ended badly: {}", what, r.body.substr(r.body.size() > 400 ? r.body.size() - 400 : 0)));
    text = s.text;
  } else if (kind == chat_stream || kind == gen_stream || kind == raw_stream) {
    Streamed s = parse_ndjson(r);
    if (s.torn || !s.done()) return t.problem(fmt::format("{}: stream ended badly: {}", what, json::serialize(s.last())));
    text = s.text;
    const json::object last = s.last();
    if (const json::value* h = last.if_contains("hydra")) {
      continued = true;
      // A raw prompt gives no hint where the partial answer starts: a partial that is only the
      // first node's name (cut after one token) cannot be told from the prompt's last word.
      for (const auto& step : h->at("continued").as_array())
        if (step.at("after_tokens").to_number<int>() <= 1 && kind == raw_stream) bare_name = true;
    }
  } else {
    text = reply_text(r.body);
  }
  std::lock_guard lock(t.mu);
  ++t.requests;
  if (continued) ++t.continued;
  if (bare_name) {
    ++t.raw_bare_name;
    return;
  }
  if (after_name(text) != after_name(expected) && t.problems.size() < 20)
    t.problems.push_back(fmt::format("{}: text '{}' instead of '{}'; last line {}", what, text, expected,
                                     r.body.substr(r.body.rfind('\n', r.body.size() - 2) + 1)));
}

}  // namespace

TEST(Chaos, MixedLoadThroughRotatingFaultsEveryReplyWholeAndExact) {
  Fleet f;
  // Names that are not words of the sim's replies: a raw partial answer that ends with the word
  // "a" would otherwise read, to a node named "a", as its own name alone (the answer just begun).
  for (const char* name : {"node-x", "node-y", "node-z"})
    f.add_sim(name,
              {"--model", "llama3.2:3b=2", "--loaded", kModel, "--tokens-per-second", "60", "--load-seconds", "0.1",
               "--parallel", std::to_string(kSlots)},
              fmt::format("#slots={}", kSlots));
  f.start_gateway({"HYDRA_IDLE_TIMEOUT_MS=1000", "HYDRA_FIRST_BYTE_TIMEOUT_MS=8000", "HYDRA_HEALTH_INTERVAL=0.25",
                   "HYDRA_MAX_ATTEMPTS=6", "HYDRA_QUEUE_TIMEOUT=30"});

  // The uninterrupted replies, asked of one sim directly before anything goes wrong.
  std::vector<std::string> ref, raw_ref;
  for (int p = 0; p < kPrompts; ++p) {
    ref.push_back(reply_text(post(f.sim(0).endpoint, "/api/chat",
                                  fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"{}"}}],"stream":false}})",
                                              kModel, prompt_of(p))).body));
    raw_ref.push_back(reply_text(post(f.sim(0).endpoint, "/api/generate",
                                      fmt::format(R"({{"model":"{}","prompt":"{}","raw":true,"stream":false}})", kModel,
                                                  raw_prompt_of(p))).body));
    ASSERT_FALSE(ref.back().empty());
    ASSERT_FALSE(raw_ref.back().empty());
  }
  // A generate prompt without a system is the chat's one user message: the same words.
  ASSERT_EQ(after_name(reply_text(post(f.sim(1).endpoint, "/api/generate",
                                       fmt::format(R"({{"model":"{}","prompt":"{}","stream":false}})", kModel,
                                                   prompt_of(0))).body)),
            after_name(ref[0]));

  Tally tally;
  std::atomic<bool> stop{false};
  const long rss_start = rss_kib(f.gateway_pid());
  std::vector<std::thread> clients;
  for (int w = 0; w < 12; ++w)
    clients.emplace_back([&, w] {
      for (int i = 0; i < 1000 && !stop; ++i) {
        const int kind = (w + i) % kinds, p = (w * 7 + i) % kPrompts;
        check(tally, kind, p, request(f.gateway(), call_for(kind, p)), ref, raw_ref);
      }
    });

  // Faults rotate over the sims, one at a time, while the load runs.
  std::vector<int64_t> most_in_progress(3, 0);
  std::vector<bool> was_frozen(3, false);
  auto note_slots = [&](std::size_t i) {
    if (was_frozen[i]) return;  // a thawed sim still counts requests its client gave up on
    auto s = f.sim_stats(i);
    if (s.is_object()) most_in_progress[i] = std::max(most_in_progress[i], s.at("max_in_progress").to_number<int64_t>());
  };
  // One fault at a time: the next waits until the other sims are healthy again in the
  // gateway's eyes, so that a stream cut on one always has somewhere to go on.
  auto others_healthy = [&](std::size_t target) {
    auto r = get(f.gateway(), "/nodes");
    if (r.status != 200) return false;
    const json::value nodes = json::parse(r.body);
    for (const auto& n : nodes.at("nodes").as_array()) {
      const auto& o = n.as_object();
      if (o.at("id").as_string() != f.sim(target).id.c_str() && o.at("health").as_string() != "healthy") return false;
    }
    return true;
  };
  const auto until = steady_clock::now() + kLoad;
  std::vector<std::string> applied;
  for (int k = 0; steady_clock::now() < until && k < 100; ++k) {
    const std::size_t i = static_cast<std::size_t>(k) % 3;
    if (!wait_for([&] { return others_healthy(i); }, seconds(20))) ADD_FAILURE() << "the fleet did not recover in 20 s";
    const int after = 1 + (k * 5) % 9;
    switch (k % 7) {
      case 0:  // a machine that dies, and comes back after a while
        note_slots(i);
        f.sim(i).process->kill_now();
        std::this_thread::sleep_for(kFaultEvery);  // (the fault's duration, not a wait for anything)
        f.restart_sim(i);
        was_frozen[i] = false;
        applied.push_back("kill");
        break;
      case 1:
        post(f.sim(i).endpoint, "/_sim/fault", fmt::format(R"({{"mode":"cut","after_tokens":{},"count":2}})", after));
        applied.push_back("cut");
        break;
      case 2:  // a hung machine: connections open, nothing answers
        note_slots(i);
        f.sim(i).process->freeze();
        was_frozen[i] = true;
        std::this_thread::sleep_for(kFaultEvery);
        f.sim(i).process->thaw();
        applied.push_back("freeze");
        break;
      case 3:
        post(f.sim(i).endpoint, "/_sim/fault", R"({"mode":"error500","count":2})");
        applied.push_back("error500");
        break;
      case 4:
        post(f.sim(i).endpoint, "/_sim/fault",
             fmt::format(R"({{"mode":"error_line","after_tokens":{},"count":2}})", after));
        applied.push_back("error_line");
        break;
      case 5:
        post(f.sim(i).endpoint, "/_sim/fault", R"({"mode":"slow","factor":3,"count":4})");
        applied.push_back("slow");
        break;
      default:  // crashed and back at once
        note_slots(i);
        f.restart_sim(i);
        was_frozen[i] = false;
        applied.push_back("restart");
    }
    if (k % 7 != 0 && k % 7 != 2) std::this_thread::sleep_for(kFaultEvery);
  }
  stop = true;
  for (auto& c : clients) c.join();
  for (std::size_t i = 0; i < 3; ++i) note_slots(i);
  const long rss_end = rss_kib(f.gateway_pid());

  const std::string metrics = get(f.gateway(), "/metrics").body;
  std::printf("chaos: %d replies, %d continued (%d raw ones cut after the name alone, text not compared), "
              "%zu faults, gateway RSS %ld -> %ld KiB, most in progress per sim %lld/%lld/%lld\n",
              tally.requests, tally.continued, tally.raw_bare_name, applied.size(), rss_start, rss_end,
              static_cast<long long>(most_in_progress[0]), static_cast<long long>(most_in_progress[1]),
              static_cast<long long>(most_in_progress[2]));
  for (const auto& p : tally.problems) ADD_FAILURE() << p;
  EXPECT_GE(applied.size(), 10u);
  EXPECT_GE(tally.requests, 200);
  EXPECT_GT(tally.continued, 0) << "no stream was hit by a fault: the test proved nothing";
  EXPECT_NE(metrics.find("hydra_continuations_total{outcome=\"resumed\"} "), std::string::npos);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_LE(most_in_progress[i], kSlots) << "sim " << i;
  EXPECT_LT(rss_end - rss_start, kRssSlackKiB) << rss_start << " KiB before, " << rss_end << " KiB after";
}
