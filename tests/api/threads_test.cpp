// The gateway on several worker threads (issue #17): many clients at once on many
// connections, spread by the kernel over the workers' acceptors, are all served whole; the
// slots the nodes have are never exceeded across workers; the control thread's views (/stats,
// /routing, /metrics) count every request; status endpoints answer from any worker; and
// `threads = 1` serves as before.
#include "support/fleet.hpp"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <iterator>
#include <future>
#include <gtest/gtest.h>
#include <thread>

using namespace hydra::test;
namespace json = boost::json;
using namespace std::chrono;

namespace {

std::vector<std::string> sim_args() {
  return {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", "400", "--load-seconds", "0.1"};
}

// The names of a process's threads (/proc/PID/task/TID/comm), sorted.
std::vector<std::string> thread_names(pid_t pid) {
  std::vector<std::string> out;
  const std::filesystem::path tasks = fmt::format("/proc/{}/task", pid);
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream comm(t.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

json::object stats(Fleet& f) { return json::parse(get(f.gateway(), "/stats").body).as_object(); }

int64_t served_total(Fleet& f) {
  auto s = stats(f);
  int64_t n = 0;
  const auto& by_node = s.at("routing").at("by_node").as_object();
  for (const auto& [node, v] : by_node) n += v.to_number<int64_t>();
  return n;
}

int64_t sim_stat(Fleet& f, std::size_t i, const char* key) {
  auto s = f.sim_stats(i);
  return s.is_object() ? s.at(key).to_number<int64_t>() : -1;
}

// One client's mix: a streamed chat, a whole generate, an OpenAI chat, a status view.
struct Tally {
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  std::string first_failure;
  std::mutex m;
  void fail(const std::string& what) {
    ++bad;
    std::lock_guard l(m);
    if (first_failure.empty()) first_failure = what;
  }
};

void client(Fleet& f, int id, int rounds, Tally& t) {
  for (int r = 0; r < rounds; ++r) {
    const std::string word = fmt::format("c{}r{}", id, r);
    HttpCall chat;
    chat.method = "POST";
    chat.target = "/api/chat";
    chat.body = fmt::format(R"({{"model":"llama3.2:3b","messages":[{{"role":"user","content":"{}"}}],"options":{{"num_predict":8}}}})", word);
    auto a = request(f.gateway(), chat);
    if (a.status == 200 && a.complete && a.body.find("\"done\":true") != std::string::npos) ++t.ok;
    else t.fail("chat: " + std::to_string(a.status) + " " + a.body.substr(0, 300));

    auto b = post(f.gateway(), "/api/generate",
                  fmt::format(R"({{"model":"llama3.2:3b","prompt":"{}","stream":false,"options":{{"num_predict":4}}}})", word));
    if (b.status == 200 && b.body.find("\"response\"") != std::string::npos) ++t.ok;
    else t.fail("generate: " + std::to_string(b.status) + " " + b.body.substr(0, 300));

    auto c = post(f.gateway(), "/v1/chat/completions",
                  fmt::format(R"({{"model":"llama3.2:3b","messages":[{{"role":"user","content":"{}"}}],"max_tokens":4}})", word));
    if (c.status == 200 && c.body.find("chat.completion") != std::string::npos) ++t.ok;
    else t.fail("openai: " + std::to_string(c.status) + " " + c.body.substr(0, 300));

    auto d = get(f.gateway(), r % 2 ? "/nodes" : "/api/tags");
    if (d.status == 200) ++t.ok;
    else t.fail("status view: " + std::to_string(d.status));
  }
}

}  // namespace

TEST(Threads, ManyClientsOnFourWorkersAreServedWholeWithinTheNodesSlots) {
  Fleet f;
  f.add_sim("a", sim_args(), "#slots=2");
  f.add_sim("b", sim_args(), "#slots=2");
  f.start_gateway({}, {"--threads", "4"});
  EXPECT_EQ(stats(f).at("threads").to_number<int64_t>(), 4);
  // The workers are named (top -H, ps -L); the main thread, the control thread, keeps the
  // process's name.
  const auto names = thread_names(f.gateway_pid());
  for (const char* want : {"hydra", "hydra-w1", "hydra-w2", "hydra-w3"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want << " in " << fmt::format("{}", fmt::join(names, ", "));
  EXPECT_EQ(std::find(names.begin(), names.end(), "hydra-w4"), names.end());

  constexpr int kClients = 12, kRounds = 4;
  Tally t;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) clients.emplace_back([&f, &t, i] { client(f, i, kRounds, t); });
  for (auto& c : clients) c.join();
  EXPECT_EQ(t.bad.load(), 0) << t.first_failure << "\n" << f.gateway_log();
  EXPECT_EQ(t.ok.load(), kClients * kRounds * 4);

  // Twelve clients against four slots in all: the queue was used, the slots never exceeded.
  EXPECT_LE(sim_stat(f, 0, "max_in_progress"), 2);
  EXPECT_LE(sim_stat(f, 1, "max_in_progress"), 2);
  // Every model request is counted by the worker that served it, and each view has the
  // workers hand their tallies over before it answers: all are there as soon as the replies are.
  constexpr int64_t kModelRequests = kClients * kRounds * 3;
  EXPECT_EQ(served_total(f), kModelRequests) << json::serialize(stats(f));
  auto requests = json::parse(get(f.gateway(), "/requests?limit=1000").body);
  EXPECT_EQ(requests.at("requests").as_array().size(), static_cast<std::size_t>(kModelRequests));
  const std::string metrics = get(f.gateway(), "/metrics").body;
  int64_t chats = 0;  // summed over the nodes that served them
  const std::string line = R"(hydra_requests_total{endpoint="/api/chat",model="llama3.2:3b",)";
  for (auto at = metrics.find(line); at != std::string::npos; at = metrics.find(line, at + 1))
    chats += std::stoll(metrics.substr(metrics.find(' ', metrics.find('}', at)) + 1));
  EXPECT_EQ(chats, kClients * kRounds) << metrics;
  auto nodes = json::parse(get(f.gateway(), "/nodes").body);
  for (const auto& n : nodes.at("nodes").as_array())
    EXPECT_EQ(n.at("in_flight").to_number<int64_t>(), 0) << "every lease was given back";
}

TEST(Threads, AQueuedRequestOnOneWorkerGetsTheSlotFreedOnAnother) {
  Fleet f;
  f.add_sim("a", {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", "40"}, "#slots=1");
  f.start_gateway({}, {"--threads", "2"});
  // One slot in all: every request but the first waits in the queue, whichever worker holds it,
  // and is woken when a request on any worker ends.
  std::vector<std::future<HttpReply>> replies;
  for (int i = 0; i < 6; ++i)
    replies.push_back(std::async(std::launch::async, [&f, i] {
      return post(f.gateway(), "/api/generate",
                  fmt::format(R"({{"model":"llama3.2:3b","prompt":"q{}","stream":false,"options":{{"num_predict":6}}}})", i));
    }));
  for (auto& r : replies) {
    auto reply = r.get();
    EXPECT_EQ(reply.status, 200) << reply.body;
  }
  EXPECT_EQ(sim_stat(f, 0, "max_in_progress"), 1);
  ASSERT_TRUE(wait_for([&] { return served_total(f) == 6; }, seconds(10))) << json::serialize(stats(f));
  EXPECT_GE(stats(f).at("queue").at("queued").to_number<int64_t>(), 1) << json::serialize(stats(f));
}

TEST(Threads, OneThreadServesEverything) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway({}, {"--threads", "1"});
  EXPECT_EQ(stats(f).at("threads").to_number<int64_t>(), 1);
  Tally t;
  client(f, 0, 2, t);
  EXPECT_EQ(t.bad.load(), 0) << t.first_failure;
  ASSERT_TRUE(wait_for([&] { return served_total(f) == 6; }, seconds(10))) << json::serialize(stats(f));
}

// With jemalloc as its allocator (every build but the sanitizers'), the gateway has it hand
// memory back to the system from one thread of its own, not from the serving threads in the
// middle of their loops (app/allocator.hpp): a thread named jemalloc_bg_thd appears, one only,
// and the gateway serves as before.
TEST(Threads, JemallocReturnsMemoryFromOneThreadOfItsOwn) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway({}, {"--threads", "2"});
  std::ifstream maps(fmt::format("/proc/{}/maps", f.gateway_pid()));
  const std::string mapped((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  if (mapped.find("libjemalloc") == std::string::npos) GTEST_SKIP() << "this build does not link jemalloc";
  const auto purgers = [&] {
    const auto names = thread_names(f.gateway_pid());
    return std::count(names.begin(), names.end(), "jemalloc_bg_thd");
  };
  ASSERT_TRUE(wait_for([&] { return purgers() >= 1; }, seconds(10)))
      << fmt::format("{}", fmt::join(thread_names(f.gateway_pid()), ", "));
  Tally t;
  client(f, 0, 4, t);
  EXPECT_EQ(t.bad.load(), 0) << t.first_failure;
  EXPECT_EQ(purgers(), 1) << fmt::format("{}", fmt::join(thread_names(f.gateway_pid()), ", "));
}
