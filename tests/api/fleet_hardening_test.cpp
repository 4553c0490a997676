// The gateway stays bounded whatever its clients ask for and its nodes answer: made-up model
// names, nodes registered and deleted by the thousand, a node that answers garbage, request
// bodies of tens of MiB.
#include "support/fake_node.hpp"
#include "support/raw_node.hpp"
#include "support/fleet.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <cstdio>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sstream>
#include <thread>

using namespace hydra::test;
namespace json = boost::json;
using namespace std::chrono;

namespace {

// How much the gateway's RSS may grow. Under AddressSanitizer (make check) freed memory sits in
// its quarantine (256 MiB by default), so there RSS says nothing about what the gateway keeps.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssSlackKiB = 512 * 1024;
#else
constexpr long kRssSlackKiB = 4 * 1024;
#endif

long rss_kib(pid_t pid) { return status_kib(pid, "VmRSS"); }

long peak_rss_kib(pid_t pid) { return status_kib(pid, "VmHWM"); }

std::size_t lines_of(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

int64_t sim_hits(Fleet& f, std::size_t i, const char* path) {
  auto stats = f.sim_stats(i);
  const auto* n = stats.is_object() ? stats.at("requests_by_path").as_object().if_contains(path) : nullptr;
  return n ? n->to_number<int64_t>() : 0;
}

// Runs `n` calls of `call(i)` on `threads` threads; returns how many returned true.
int in_parallel(int n, int threads, const std::function<bool(int)>& call) {
  std::atomic<int> next{0}, ok{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i; (i = next++) < n;) ok += call(i) ? 1 : 0;
    });
  for (auto& t : pool) t.join();
  return ok;
}

void start_fleet(Fleet& f, std::vector<std::string> env = {}, std::vector<std::string> args = {}) {
  for (const char* name : {"a", "b"})
    f.add_sim(name, {"--model", "llama3.2:3b=2", "--loaded", "llama3.2:3b", "--tokens-per-second", "2000",
                     "--load-seconds", "0.05"});
  f.start_gateway(std::move(env), std::move(args));
}

const char* kKnown = R"({"model":"llama3.2:3b","prompt":"hi","stream":false,"options":{"num_predict":2}})";

}  // namespace

TEST(UnknownModels, FiveThousandMadeUpNamesLeaveMetricsAndMemoryAsTheyWereAndTheFleetIsReadRarely) {
  Fleet f;
  start_fleet(f, {"HYDRA_MODELS_INTERVAL=3600"});  // model lists are read again only on a miss
  std::mt19937_64 rng(13);
  auto made_up = [&rng](int i) { return fmt::format("made-up-{}-{}:7b", i, rng()); };
  auto ask = [&](const std::string& model) {
    return post(f.gateway(), "/api/generate", R"({"model":")" + model + R"(","prompt":"hi"})").status == 404;
  };
  // Every series a request for a missing model may add exists after the first few.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(post(f.gateway(), "/api/generate", kKnown).status, 200);
  std::vector<std::string> names;
  for (int i = 0; i < 5500; ++i) names.push_back(made_up(i));
  ASSERT_EQ(in_parallel(500, 4, [&](int i) { return ask(names[i]); }), 500);  // (allocator pools warm up)

  const std::size_t metrics_before = lines_of(get(f.gateway(), "/metrics").body);
  const std::size_t stats_before = get(f.gateway(), "/stats").body.size();
  const long rss_before = rss_kib(f.gateway_pid());
  const int64_t tags_before = sim_hits(f, 0, "/api/tags") + sim_hits(f, 1, "/api/tags");
  const auto t0 = steady_clock::now();
  EXPECT_EQ(in_parallel(5000, 4, [&](int i) { return ask(names[500 + i]); }), 5000);
  const double took_s = duration<double>(steady_clock::now() - t0).count();

  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_LE(lines_of(metrics), metrics_before + 2) << metrics;
  EXPECT_NE(metrics.find(R"(model="other",node="",outcome="unroutable"})"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("made-up-"), std::string::npos);
  const std::string stats = get(f.gateway(), "/stats").body;
  EXPECT_EQ(stats.find("made-up-"), std::string::npos);
  EXPECT_LE(stats.size(), stats_before + 256);  // (counters have more digits now)
  const long rss_after = rss_kib(f.gateway_pid());
  EXPECT_LT(rss_after - rss_before, kRssSlackKiB) << rss_before << " KiB before, " << rss_after << " KiB after";
  // At most one fleet-wide refresh per 2 s (health.refresh_min_interval_s): each reads both sims once.
  const int64_t refreshes = (sim_hits(f, 0, "/api/tags") + sim_hits(f, 1, "/api/tags") - tags_before) / 2;
  EXPECT_LE(refreshes, static_cast<int64_t>(took_s / 2) + 2) << "in " << took_s << " s";
  std::printf("5000 made-up names in %.1f s: %lld fleet refreshes, RSS %ld -> %ld KiB, /metrics %zu -> %zu lines\n",
              took_s, static_cast<long long>(refreshes), rss_before, rss_after, metrics_before, lines_of(metrics));
  // A model the fleet has is still served, and named in the metrics.
  ASSERT_EQ(post(f.gateway(), "/api/generate", kKnown).status, 200);
  EXPECT_NE(get(f.gateway(), "/metrics").body.find(R"(model="llama3.2:3b")"), std::string::npos);
}

TEST(BigBodies, AnImageRequestOfTensOfMiBIsHeldOnceNotTwice) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan's allocator and quarantine make RSS say nothing here";
#endif
  Fleet f;
  start_fleet(f);
  // 48 MiB of base64 "image" in one chat message: the gateway reads its model and options,
  // and relays the body as it came. Before, it also held the whole body as a JSON document.
  const std::size_t image = std::size_t{48} * 1024 * 1024;
  std::string body = R"({"model":"llama3.2:3b","stream":false,"options":{"num_predict":2},)"
                     R"("messages":[{"role":"user","content":"what is this","images":[")";
  body.append(image, 'A');
  body += R"("]}]})";
  const long before = peak_rss_kib(f.gateway_pid());
  HttpCall c;
  c.method = "POST";
  c.target = "/api/chat";
  c.body = std::move(body);
  c.timeout = seconds(60);
  ASSERT_EQ(request(f.gateway(), c).status, 200);
  const long peak = peak_rss_kib(f.gateway_pid());
  const long image_kib = static_cast<long>(image / 1024);
  std::printf("a %ld KiB body: gateway peak RSS %ld -> %ld KiB\n", image_kib, before, peak);
  EXPECT_LT(peak - before, image_kib * 3 / 2) << "more than one copy of the body at once";
}

// Replies far larger than one read of the node's socket (a whole body of 300 KB; a stream
// whose lines run from a few bytes to 70 KB, sent in pieces that cut across them) reach the
// client byte for byte: the relay reads small pieces first and larger ones once a reply fills
// them.
// Letters that vary, so that a shifted or repeated piece of a reply would not match.
std::string varied_text(uint32_t seed, std::size_t size) {
  std::string text;
  for (uint32_t x = seed; text.size() < size;) {
    x = x * 1103515245u + 12345u;
    text += static_cast<char>('a' + (x >> 16) % 26);
  }
  return text;
}

// A node with the model big:1b whose /api/generate answers `whole` (with "stream":false) or
// `stream`, sent in pieces of `piece` bytes.
std::unique_ptr<FakeNode> big_model_node(const std::string& whole, const std::string& stream, std::size_t piece) {
  using hydra::http::bhttp::status;
  return std::make_unique<FakeNode>([&whole, &stream, piece](hydra::http::Exchange& ex) -> hydra::http::awaitable<void> {
    const std::string_view path = ex.path();
    if (path == "/api/version") co_return (void)co_await ex.respond(status::ok, R"({"version":"0.12.6"})");
    if (path == "/api/tags") co_return (void)co_await ex.respond(status::ok, R"({"models":[{"name":"big:1b","size":1000}]})");
    if (path != "/api/generate") co_return (void)co_await ex.respond(status::ok, R"({"models":[]})");
    if (ex.request().body().find(R"("stream":false)") != std::string::npos)
      co_return (void)co_await ex.respond(status::ok, whole);
    if (co_await ex.begin_stream(status::ok, "application/x-ndjson")) co_return;
    for (std::size_t from = 0; from < stream.size(); from += piece)
      if (co_await ex.send_chunk(std::string_view(stream).substr(from, piece))) co_return;
    co_await ex.end_stream();
  });
}

TEST(BigBodies, RepliesOfManyReadsArriveByteForByte) {
  const std::string text = varied_text(12345, 300'000);
  const std::string whole = R"({"model":"big:1b","response":")" + text + R"(","done":true})";
  std::string stream;
  std::size_t at = 0;
  for (const std::size_t n : {3, 5000, 20000, 1, 70000, 4095, 4096, 4097, 16384, 40000, 9})
    stream += R"({"model":"big:1b","response":")" + text.substr(at, n) + "\",\"done\":false}\n", at += n;
  stream += R"({"model":"big:1b","response":"","done":true,"eval_count":11})" "\n";
  const auto node = big_model_node(whole, stream, 7001);  // pieces that cut lines anywhere
  Fleet f;
  f.start_gateway({}, {"--node", node->url()});
  for (int round = 0; round < 3; ++round) {  // pieces reused from the thread's spares too
    auto w = post(f.gateway(), "/api/generate", R"({"model":"big:1b","prompt":"hi","stream":false})");
    ASSERT_EQ(w.status, 200) << w.body.substr(0, 200);
    EXPECT_TRUE(w.body == whole) << w.body.size() << " bytes of " << whole.size();
    auto s = post(f.gateway(), "/api/generate", R"({"model":"big:1b","prompt":"hi"})");
    ASSERT_EQ(s.status, 200) << s.body.substr(0, 200);
    EXPECT_TRUE(s.body == stream) << s.body.size() << " bytes of " << stream.size();
  }
}

// Bytes the gateway has not read yet from its connections to the node at `node_port`
// (/proc/net/tcp's rx_queue of the sockets whose peer is that port).
long unread_from_node(unsigned node_port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  long unread = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    if (remote.size() < 5 || std::stoul(remote.substr(remote.size() - 4), nullptr, 16) != node_port) continue;
    unread += std::stol(queues.substr(queues.find(':') + 1), nullptr, 16);
  }
  return unread;
}

// A client that stops reading: the gateway's writes to it fill its socket and wait (the rest
// of a write the socket did not take goes out later), and it stops reading the node meanwhile.
// When the client reads on, every byte arrives, in order: a sized reply and a stream.
TEST(BigBodies, AClientThatStopsReadingGetsEveryByteWhenItReadsOn) {
  const std::string text = varied_text(777, 12u << 20);
  const std::string whole = R"({"model":"big:1b","response":")" + text + R"(","done":true})";
  std::string stream;
  for (std::size_t at = 0; at < text.size(); at += 100'000)
    stream += R"({"model":"big:1b","response":")" + text.substr(at, 100'000) + "\",\"done\":false}\n";
  stream += R"({"model":"big:1b","response":"","done":true})" "\n";
  const auto node = big_model_node(whole, stream, 65'536);
  Fleet f;
  f.start_gateway({}, {"--node", node->url()});
  for (const bool sized : {true, false}) {
    HttpCall c;
    c.method = "POST";
    c.target = "/api/generate";
    c.body = sized ? R"({"model":"big:1b","prompt":"hi","stream":false})" : R"({"model":"big:1b","prompt":"hi"})";
    c.timeout = std::chrono::milliseconds(60'000);
    bool waited = false, stalled = false;
    c.on_data = [&](std::string_view) {
      if (!waited) {  // the first piece: the client reads nothing more until the gateway is held up
        waited = true;
        // 32 KiB: the gateway's receive buffer from the node may hold little more than 64 KiB.
        stalled = wait_for([&] { return unread_from_node(node->endpoint().port()) >= (32 << 10); }, seconds(20));
      }
      return true;
    };
    auto reply = request(f.gateway(), c);
    ASSERT_EQ(reply.status, 200) << reply.error;
    EXPECT_TRUE(stalled) << "the gateway never stopped reading the node";
    EXPECT_TRUE(reply.complete);
    EXPECT_TRUE(reply.body == (sized ? whole : stream)) << reply.body.size() << " bytes of "
                                                        << (sized ? whole : stream).size();
  }
}

// A node's error reply is read by the relay itself (api/attempt.cpp read_error_body): in
// chunks, whole, and its words reach the client; the connection then serves the next request.
TEST(NodeErrors, AChunkedErrorReplyIsReadWholeAndItsWordsReachTheClient) {
  using hydra::http::bhttp::status;
  int generates = 0;  // the node's thread only
  // (Not a braced list inside the handler: g++ 12 mishandles those in coroutines.)
  static constexpr std::string_view kPieces[] = {R"({"error":"the )", R"(model explo)", R"(ded"})"};
  FakeNode node([&](hydra::http::Exchange& ex) -> hydra::http::awaitable<void> {
    const std::string_view path = ex.path();
    if (path == "/api/version") co_return (void)co_await ex.respond(status::ok, R"({"version":"0.12.6"})");
    if (path == "/api/tags") co_return (void)co_await ex.respond(status::ok, R"({"models":[{"name":"err:1b","size":1000}]})");
    if (path != "/api/generate") co_return (void)co_await ex.respond(status::ok, R"({"models":[]})");
    if (++generates % 2 == 0) co_return (void)co_await ex.respond(status::ok, R"({"response":"fine","done":true})");
    if (co_await ex.begin_stream(status::internal_server_error, "application/json")) co_return;
    for (std::string_view piece : kPieces)
      if (co_await ex.send_chunk(piece)) co_return;
    co_await ex.end_stream();
  });
  Fleet f;
  f.start_gateway({}, {"--node", node.url()});
  for (int round = 0; round < 3; ++round) {
    auto failed = post(f.gateway(), "/api/generate", R"({"model":"err:1b","prompt":"hi","stream":false})");
    EXPECT_GE(failed.status, 500) << failed.body;
    EXPECT_NE(failed.body.find("the model exploded"), std::string::npos) << failed.body;
    auto fine = post(f.gateway(), "/api/generate", R"({"model":"err:1b","prompt":"hi","stream":false})");
    EXPECT_EQ(fine.status, 200) << fine.body;
    EXPECT_NE(fine.body.find("fine"), std::string::npos) << fine.body;
  }
}

// A reply head the relay refuses (http/reply_head.hpp) fails that attempt as the node's fault;
// the request goes to another node and the client never sees it. Each bad node (a RawNode:
// its bytes go out as they are) sends one kind: a folded line, two lengths, a length and a
// Transfer-Encoding together.
TEST(NodeErrors, AMalformedReplyHeadFailsOverToAnotherNode) {
  static const std::string kBad[] = {"X-Folded: a\r\n b\r\n", "X-Second: 1\r\nContent-Length: 99999\r\n",
                                     "X-Smuggle: 1\r\nTransfer-Encoding: chunked\r\n"};
  std::vector<std::unique_ptr<RawNode>> bad;
  for (const std::string& fields : kBad)
    bad.push_back(std::make_unique<RawNode>([&fields](std::string_view path) {
      if (path == "/api/version") return raw_json_reply(R"({"version":"0.12.6"})");
      if (path == "/api/tags") return raw_json_reply(R"({"models":[{"name":"llama3.2:3b","size":1000}]})");
      if (path == "/api/ps") return raw_json_reply(R"({"models":[{"name":"llama3.2:3b","size":1000,"size_vram":1000}]})");
      if (path != "/api/generate") return raw_json_reply(R"({"models":[]})");
      return raw_json_reply(R"({"model":"llama3.2:3b","response":"bad","done":true})", fields);
    }));
  Fleet f;
  f.add_sim("a", {"--model", "llama3.2:3b=4", "--loaded", "llama3.2:3b", "--tokens-per-second", "2000"});
  std::vector<std::string> args;
  for (const auto& node : bad) args.insert(args.end(), {"--node", node->url()});
  f.start_gateway({"HYDRA_MAX_ATTEMPTS=4"}, args);  // the three bad nodes may all come first
  const auto all_hit = [&] {
    return std::all_of(bad.begin(), bad.end(), [](const auto& n) { return n->hits("/api/generate") > 0; });
  };
  for (int i = 0; i < 80 && !all_hit(); ++i) {
    auto r = post(f.gateway(), "/api/generate", kKnown);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find("\"bad\""), std::string::npos) << r.body;
  }
  for (std::size_t i = 0; i < bad.size(); ++i) EXPECT_GT(bad[i]->hits("/api/generate"), 0) << kBad[i];
}

TEST(UnknownModels, APulledModelIsFoundByTheNextRequestAfterTheInterval) {
  Fleet f;
  start_fleet(f, {"HYDRA_MODELS_INTERVAL=3600"});
  ASSERT_EQ(post(f.gateway(), "/api/generate", R"({"model":"fresh:1b","prompt":"hi"})").status, 404);
  // Pulled on a node behind the gateway's back.
  ASSERT_EQ(post(f.sim(0).endpoint, "/api/pull", R"({"model":"fresh:1b","stream":false})").status, 200);
  // Within the interval the gateway does not look again; after it, the next request does.
  EXPECT_TRUE(wait_for([&] {
    return post(f.gateway(), "/api/generate", R"({"model":"fresh:1b","prompt":"hi","stream":false,"options":{"num_predict":1}})")
               .status == 200;
  }, seconds(10)));
}

TEST(Churn, ThreeThousandRegisterDeleteCyclesLeaveTheGatewayAsItWas) {
  Fleet f;
  start_fleet(f);
  auto cycle = [&](int i) {
    const std::string id = fmt::format("127.1.{}.{}:9", i / 250, i % 250 + 1);  // nothing listens there
    auto r = post(f.gateway(), "/nodes/register", R"({"url":"http://)" + id + R"("})");
    HttpCall del;
    del.method = "DELETE";
    del.target = "/nodes/" + id;
    return r.status == 200 && request(f.gateway(), del).status == 200;
  };
  ASSERT_EQ(in_parallel(300, 4, cycle), 300);  // (allocator pools warm up)
  const long rss_before = rss_kib(f.gateway_pid());
  EXPECT_EQ(in_parallel(3000, 4, [&](int i) { return cycle(300 + i); }), 3000);
  const long rss_after = rss_kib(f.gateway_pid());
  EXPECT_LT(rss_after - rss_before, kRssSlackKiB) << rss_before << " KiB before, " << rss_after << " KiB after";
  std::printf("3000 register/delete cycles: RSS %ld -> %ld KiB\n", rss_before, rss_after);
  auto nodes = json::parse(get(f.gateway(), "/nodes").body);
  EXPECT_EQ(nodes.at("nodes").as_array().size(), 2u);
  EXPECT_EQ(post(f.gateway(), "/api/generate", kKnown).status, 200);
}

TEST(GarbageNode, ANodeAnsweringGarbageIsProbedOnAndTheOthersServe) {
  // Every probe of this node gets the next of these replies, round and round.
  static const std::vector<std::pair<int, std::string>> garbage = {
      {200, "not json"},
      {200, "{"},
      {200, "[1,2,3]"},
      {200, R"({"version":5,"models":7})"},
      {200, R"({"version":{"a":[]},"models":{"name":"x"}})"},
      {200, R"({"models":[1,"x",null,{"name":5},{"name":"m:1b","size":-1,"size_vram":1e300}]})"},
      {200, R"({"models":[{"name":"m:1b","size":18446744073709551615,"size_vram":18446744073709551615,"details":"x"}]})"},
      {200, R"({"gpus":[{"memory_total_mib":1e308,"memory_free_mib":-5}],"ram":{"total_mib":"lots"}})"},
      {200, std::string(100'000, '[')},
      {200, R"({"version":")" + std::string(200'000, 'v') + R"("})"},
      {200, R"({"error":"boom"})"},
      {200, ""},
  };
  std::atomic<std::size_t> turn{0};
  FakeNode junk([&](hydra::http::Exchange& ex) -> hydra::http::awaitable<void> {
    const auto& [code, body] = garbage[turn++ % garbage.size()];
    co_await ex.respond(static_cast<hydra::http::bhttp::status>(code), body);
  });
  Fleet f;
  start_fleet(f, {"HYDRA_HEALTH_INTERVAL=0.05", "HYDRA_MODELS_INTERVAL=0.1"},
              {"--node", fmt::format("{}#agent={}", junk.url(), junk.endpoint().port())});
  // It keeps being probed (its probe loop never dies) while the real nodes serve.
  const int probes = junk.hits("/api/version");
  const auto until = steady_clock::now() + seconds(3);
  int served = 0;
  while (steady_clock::now() < until) served += post(f.gateway(), "/api/generate", kKnown).status == 200 ? 1 : 0;
  EXPECT_GT(served, 0);
  EXPECT_TRUE(wait_for([&] { return junk.hits("/api/version") > probes + 10 && junk.hits("/api/tags") > 3; }, seconds(10)))
      << junk.hits("/api/version") << " probes";
  EXPECT_EQ(get(f.gateway(), "/health").status, 200);
  auto nodes = json::parse(get(f.gateway(), "/nodes").body);
  EXPECT_EQ(nodes.at("nodes").as_array().size(), 3u);
  EXPECT_EQ(get(f.gateway(), "/metrics").status, 200);
  EXPECT_EQ(f.gateway_log().find("ended by an exception"), std::string::npos) << f.gateway_log();
}
