// The response cache through the gateway (issue #18): a repeated deterministic question is
// answered from memory (and from SQLite after a restart) without reaching a node; every API
// replays the one entry in its own shape; the policy and the request's headers decide; many
// identical requests at once reach the node once (single-flight).
#include "auth/keys.hpp"
#include "support/fleet.hpp"
#include "support/redis.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

using namespace hydra::test;
namespace json = boost::json;
using namespace std::chrono;

namespace {

const std::vector<std::string> kCacheOn = {"HYDRA_CACHE_MODE=deterministic"};

std::vector<std::string> sim_args(const char* tokens_per_second = "2000") {
  return {"--model", "llama3.2:3b=2", "--model", "nomic-embed-text=0.3", "--loaded", "llama3.2:3b",
          "--tokens-per-second", tokens_per_second, "--load-seconds", "0.05"};
}

HttpReply chat(Fleet& f, const std::string& body, std::map<std::string, std::string> headers = {}) {
  HttpCall c;
  c.method = "POST";
  c.target = "/api/chat";
  c.body = body;
  c.headers = std::move(headers);
  return request(f.gateway(), c);
}

const std::string kWhole =
    R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"why is the sky blue"}],"options":{"temperature":0,"num_predict":12},"stream":false})";
const std::string kStream =
    R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"why is the sky blue"}],"options":{"temperature":0,"num_predict":12}})";

int64_t node_calls(Fleet& f, const char* path = "/api/chat") {
  auto by_path = f.sim_stats(0).at("requests_by_path").as_object();
  auto* n = by_path.if_contains(path);
  return n ? n->to_number<int64_t>() : 0;
}

std::string header(const HttpReply& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

// The reply's JSON lines without Hydra's own "hydra" field (which says it was cached).
std::vector<json::object> lines_of(const std::string& body) {
  std::vector<json::object> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    if (nl > pos) {
      json::object o = json::parse(body.substr(pos, nl - pos)).as_object();
      o.erase("hydra");
      out.push_back(std::move(o));
    }
    pos = nl + 1;
  }
  return out;
}

}  // namespace

TEST(Cache, ARepeatedDeterministicQuestionIsAnsweredFromMemoryWithoutTheNode) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway(kCacheOn);
  auto first = chat(f, kWhole);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(header(first, "x-hydra-cache"), "miss");
  auto second = chat(f, kWhole);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(header(second, "x-hydra-cache"), "hit; tier=l1");
  EXPECT_EQ(node_calls(f), 1);
  auto a = json::parse(first.body).as_object(), b = json::parse(second.body).as_object();
  EXPECT_EQ(b.at("hydra").at("cached"), "l1");
  b.erase("hydra");
  EXPECT_EQ(a, b);  // the node's reply, durations included
  EXPECT_EQ(header(second, "x-hydra-node"), f.sim(0).id);

  // A streamed request for the same question shares the entry: one line, the whole answer.
  HttpReply streamed = chat(f, kStream);
  EXPECT_EQ(header(streamed, "x-hydra-cache"), "hit; tier=l1");
  auto lines = lines_of(streamed.body);
  ASSERT_EQ(lines.size(), 1u) << streamed.body;
  EXPECT_EQ(lines[0].at("message").at("content"), a.at("message").at("content"));
  EXPECT_EQ(node_calls(f), 1);

  // The OpenAI API replays the same entry in its own shape.
  HttpCall oa;
  oa.method = "POST";
  oa.target = "/v1/chat/completions";
  oa.body = R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"why is the sky blue"}],"temperature":0,"max_tokens":12})";
  auto openai = request(f.gateway(), oa);
  ASSERT_EQ(openai.status, 200) << openai.body;
  EXPECT_EQ(header(openai, "x-hydra-cache"), "hit; tier=l1") << openai.body;
  EXPECT_EQ(json::parse(openai.body).at("choices").at(0).at("message").at("content"), a.at("message").at("content"));
  EXPECT_EQ(node_calls(f), 1);

  // Figures: /stats, /metrics, the request log.
  auto stats = json::parse(get(f.gateway(), "/stats").body).at("cache").as_object();
  EXPECT_EQ(stats.at("hits").to_number<int64_t>(), 3) << json::serialize(stats);
  EXPECT_EQ(stats.at("tiers").at("l1").at("entries").to_number<int64_t>(), 1) << json::serialize(stats);
  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find(R"(hydra_cache_requests_total{tier="l1",result="hit"} 3)"), std::string::npos) << metrics;
  auto [lint, said] = promtool_check(metrics, f.data_dir());
  EXPECT_EQ(lint, 0) << said;
  ASSERT_TRUE(wait_for([&] { return get(f.gateway(), "/requests").body.find("\"outcome\":\"cached\"") != std::string::npos; },
                       seconds(5)));
}

TEST(Cache, AStreamIsReplayedLineByLineAsRecordedAndMergedForAWholeRequest) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway(kCacheOn);
  auto first = chat(f, kStream);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(header(first, "x-hydra-cache"), "miss");
  auto again = chat(f, kStream);
  EXPECT_EQ(header(again, "x-hydra-cache"), "hit; tier=l1");
  auto original = lines_of(first.body), replayed = lines_of(again.body);
  ASSERT_GT(original.size(), 3u);
  EXPECT_EQ(original, replayed);  // every chunk as first sent, done line and durations included
  EXPECT_NE(again.body.find("\"hydra\":{\"cached\":\"l1\"}"), std::string::npos);

  auto whole = chat(f, kWhole);
  EXPECT_EQ(header(whole, "x-hydra-cache"), "hit; tier=l1");
  std::string text;
  for (const auto& l : original) text += std::string(l.at("message").at("content").as_string());
  auto merged = json::parse(whole.body).as_object();
  EXPECT_EQ(merged.at("message").at("content"), json::value(text));
  EXPECT_EQ(merged.at("done"), true);
  EXPECT_EQ(merged.at("eval_count"), original.back().at("eval_count"));
  EXPECT_EQ(node_calls(f), 1);
}

TEST(Cache, ThePolicyAndTheRequestsHeadersDecide) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway(kCacheOn);
  // Not deterministic: bypass, every time.
  const std::string warm =
      R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"options":{"temperature":0.7},"stream":false})";
  EXPECT_EQ(header(chat(f, warm), "x-hydra-cache"), "bypass");
  EXPECT_EQ(header(chat(f, warm), "x-hydra-cache"), "bypass");
  EXPECT_EQ(node_calls(f), 2);
  // A seed makes it deterministic.
  const std::string seeded =
      R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"options":{"temperature":0.7,"seed":7},"stream":false})";
  EXPECT_EQ(header(chat(f, seeded), "x-hydra-cache"), "miss");
  EXPECT_EQ(header(chat(f, seeded), "x-hydra-cache"), "hit; tier=l1");
  EXPECT_EQ(node_calls(f), 3);
  // no-cache: asks the node (and stores); no-store: neither reads nor writes.
  EXPECT_EQ(header(chat(f, seeded, {{"Cache-Control", "no-cache"}}), "x-hydra-cache"), "miss");
  EXPECT_EQ(node_calls(f), 4);
  EXPECT_EQ(header(chat(f, seeded, {{"Cache-Control", "no-store"}}), "x-hydra-cache"), "bypass");
  EXPECT_EQ(node_calls(f), 5);
  EXPECT_EQ(header(chat(f, kWhole, {{"Cache-Control", "no-store"}}), "x-hydra-cache"), "bypass");
  EXPECT_EQ(header(chat(f, kWhole), "x-hydra-cache"), "miss");  // the no-store reply was not kept
  // A request that names its node is answered by that node.
  EXPECT_EQ(header(chat(f, kWhole, {{"X-Hydra-Node", f.sim(0).id}}), "x-hydra-cache"), "bypass");
  // A TTL of 0 keeps nothing; a bad one is a 400 in the API's shape.
  const std::string other =
      R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"ttl"}],"options":{"temperature":0},"stream":false})";
  EXPECT_EQ(header(chat(f, other, {{"X-Hydra-Cache-TTL", "0"}}), "x-hydra-cache"), "miss");
  EXPECT_EQ(header(chat(f, other), "x-hydra-cache"), "miss");
  auto bad = chat(f, other, {{"X-Hydra-Cache-TTL", "soon"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(json::parse(bad.body).at("error").as_string().find("X-Hydra-Cache-TTL"), std::string::npos) << bad.body;
  // Embeddings are cached under the default policy.
  const std::string embed = R"({"model":"nomic-embed-text","input":"hello"})";
  auto e1 = post(f.gateway(), "/api/embed", embed);
  auto e2 = post(f.gateway(), "/api/embed", embed);
  ASSERT_EQ(e1.status, 200) << e1.body;
  EXPECT_EQ(header(e2, "x-hydra-cache"), "hit; tier=l1");
  EXPECT_EQ(json::parse(e1.body).at("embeddings"), json::parse(e2.body).at("embeddings"));
  EXPECT_EQ(node_calls(f, "/api/embed"), 1);
}

TEST(Cache, EntriesSurviveARestartInSqliteAndDeleteCachePurgesThem) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway(kCacheOn);
  EXPECT_EQ(header(chat(f, kWhole), "x-hydra-cache"), "miss");
  f.start_gateway(kCacheOn);  // a new process on the same data dir
  auto after = chat(f, kWhole);
  EXPECT_EQ(header(after, "x-hydra-cache"), "hit; tier=l2") << after.body;
  EXPECT_EQ(header(chat(f, kWhole), "x-hydra-cache"), "hit; tier=l1");  // promoted
  EXPECT_EQ(node_calls(f), 1);

  HttpCall purge;
  purge.method = "DELETE";
  purge.target = "/cache?model=llama3.2:3b";
  auto purged = request(f.gateway(), purge);
  ASSERT_EQ(purged.status, 200) << purged.body;
  auto p = json::parse(purged.body);
  EXPECT_EQ(p.at("purged").to_number<int64_t>(), 1) << purged.body;  // one answer...
  EXPECT_EQ(p.at("tiers").at("l1").to_number<int64_t>(), 1) << purged.body;  // ...held in two tiers
  EXPECT_EQ(p.at("tiers").at("l2").to_number<int64_t>(), 1) << purged.body;
  purge.target = "/cache?model=";
  EXPECT_EQ(request(f.gateway(), purge).status, 400);
  EXPECT_EQ(header(chat(f, kWhole), "x-hydra-cache"), "miss");
  EXPECT_EQ(node_calls(f), 2);
}

TEST(Cache, TwoHundredIdenticalRequestsAtOnceReachTheNodeOnce) {
  Fleet f;
  f.add_sim("a", sim_args("40"));  // slow enough that every request arrives while the first streams
  f.start_gateway(kCacheOn);
  const std::string body =
      R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"one question"}],"options":{"temperature":0,"num_predict":40}})";
  constexpr int kClients = 200;
  std::vector<HttpReply> replies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      HttpCall c;
      c.method = "POST";
      c.target = "/api/chat";
      c.body = body;
      c.timeout = seconds(30);
      replies[i] = request(f.gateway(), c);
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(node_calls(f), 1);
  int miss = 0, coalesced = 0, hit = 0;
  const auto reference = lines_of(replies[0].body);
  for (const auto& r : replies) {
    ASSERT_EQ(r.status, 200) << r.body << r.error;
    const std::string how = header(r, "x-hydra-cache");
    miss += how == "miss";
    coalesced += how == "coalesced";
    hit += how.starts_with("hit");
    std::string text;
    for (const auto& l : lines_of(r.body)) text += std::string(l.at("message").at("content").as_string());
    std::string expected;
    for (const auto& l : reference) expected += std::string(l.at("message").at("content").as_string());
    EXPECT_EQ(text, expected);
  }
  EXPECT_EQ(miss, 1);
  EXPECT_EQ(miss + coalesced + hit, kClients);
  EXPECT_GT(coalesced, 0);
  auto stats = json::parse(get(f.gateway(), "/stats").body).at("cache").as_object();
  EXPECT_EQ(stats.at("coalesced").to_number<int64_t>(), coalesced);
}

TEST(Cache, TheFirstClientLeavingDoesNotEndTheReplyOthersStillRead) {
  Fleet f;
  f.add_sim("a", sim_args("20"));
  f.start_gateway(kCacheOn);
  const std::string body =
      R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"a story"}],"options":{"temperature":0,"num_predict":30}})";
  std::atomic<bool> leader_reading{false}, follower_reading{false};
  std::thread leader([&] {
    HttpCall c;
    c.method = "POST";
    c.target = "/api/chat";
    c.body = body;
    c.on_data = [&](std::string_view) {
      leader_reading = true;
      wait_for([&] { return follower_reading.load(); }, seconds(10));
      return false;  // hang up once the follower reads the same reply
    };
    request(f.gateway(), c);
  });
  ASSERT_TRUE(wait_for([&] { return leader_reading.load(); }, seconds(10)));
  HttpCall c;
  c.method = "POST";
  c.target = "/api/chat";
  c.body = body;
  std::string received;
  c.on_data = [&](std::string_view piece) {
    received += piece;
    follower_reading = true;
    return true;
  };
  auto follower = request(f.gateway(), c);
  leader.join();
  ASSERT_EQ(follower.status, 200) << follower.error;
  EXPECT_EQ(header(follower, "x-hydra-cache"), "coalesced");
  auto lines = lines_of(received.empty() ? follower.body : received);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().at("done"), true) << received;
  EXPECT_EQ(lines.back().at("eval_count"), 30) << received;
  EXPECT_EQ(node_calls(f), 1);
}

TEST(Cache, ATenantNeverReadsAnotherTenantsAnswersAndOnlyAnAdminPurges) {
  Fleet f;
  f.add_sim("a", sim_args());
  const auto path = std::filesystem::temp_directory_path() / ("hydra-cache-keys-" + std::to_string(::getpid()) + ".toml");
  auto entry = [](const char* name, const char* secret, const char* extra) {
    return std::string("[[keys]]\nname = \"") + name + "\"\nsha256 = \"" +
           hydra::auth::to_hex(hydra::auth::sha256(secret)) + "\"\n" + extra + "\n";
  };
  std::ofstream(path) << entry("red", "red-secret", "") << entry("blue", "blue-secret", "")
                      << entry("ops", "ops-secret", "admin = true");
  f.start_gateway({"HYDRA_CACHE_MODE=deterministic", "HYDRA_API_KEYS_FILE=" + path.string()});
  auto as = [](const char* secret) { return std::map<std::string, std::string>{{"Authorization", std::string("Bearer ") + secret}}; };
  EXPECT_EQ(header(chat(f, kWhole, as("red-secret")), "x-hydra-cache"), "miss");
  EXPECT_EQ(header(chat(f, kWhole, as("red-secret")), "x-hydra-cache"), "hit; tier=l1");
  EXPECT_EQ(header(chat(f, kWhole, as("blue-secret")), "x-hydra-cache"), "miss");  // its own namespace
  EXPECT_EQ(node_calls(f), 2);

  HttpCall purge;
  purge.method = "DELETE";
  purge.target = "/cache";
  purge.headers = as("red-secret");
  EXPECT_EQ(request(f.gateway(), purge).status, 403);
  purge.headers = as("ops-secret");
  auto purged = request(f.gateway(), purge);
  EXPECT_EQ(purged.status, 200) << purged.body;
  EXPECT_EQ(header(chat(f, kWhole, as("red-secret")), "x-hydra-cache"), "miss");
  std::filesystem::remove(path);
}

TEST(Cache, TwoGatewaysShareAnswersThroughRedisAndARedisThatDiesCostsNoRequest) {
  RedisServer redis;
  const std::vector<std::string> env = {"HYDRA_CACHE_MODE=deterministic", "HYDRA_CACHE_REDIS_URL=" + redis.url()};
  Fleet one, two;  // two gateways, each with its own node and its own data dir (L1 and L2)
  one.add_sim("a", sim_args());
  two.add_sim("b", sim_args());
  one.start_gateway(env);
  two.start_gateway(env);
  EXPECT_EQ(header(chat(one, kWhole), "x-hydra-cache"), "miss");
  // The other gateway finds it in Redis once the write landed (writes are not waited for).
  HttpReply shared;
  ASSERT_TRUE(wait_for(
      [&] {
        shared = chat(two, kWhole);
        return header(shared, "x-hydra-cache") == "hit; tier=l3";
      },
      seconds(5)))
      << header(shared, "x-hydra-cache");
  EXPECT_EQ(node_calls(one), 1);
  const int64_t two_calls = node_calls(two);  // misses while the write was on its way
  EXPECT_EQ(header(chat(two, kWhole), "x-hydra-cache"), "hit; tier=l1");  // promoted
  auto stats = json::parse(get(two.gateway(), "/stats").body).at("cache").as_object();
  EXPECT_EQ(stats.at("tiers").at("l3").at("up"), true) << json::serialize(stats);

  // Redis dies: new questions are answered (misses), nobody sees an error, /health says so.
  redis.kill_now();
  for (int i = 0; i < 5; ++i) {
    const std::string body = R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"q)" + std::to_string(i) +
                             R"("}],"options":{"temperature":0},"stream":false})";
    auto r = chat(two, body);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(header(r, "x-hydra-cache"), "miss");
  }
  EXPECT_EQ(node_calls(two), two_calls + 5);
  auto health = json::parse(get(two.gateway(), "/health").body);
  EXPECT_EQ(health.at("components").at("cache").at("status"), "degraded") << json::serialize(health);
  const std::string metrics = get(two.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find("hydra_cache_redis_up 0"), std::string::npos) << metrics;
  EXPECT_NE(two.gateway_log().find("Redis at 127.0.0.1"), std::string::npos);
}

TEST(Cache, TheSemanticTierAnswersTheSameQuestionWordedOtherwiseAndPersists) {
  Fleet f;
  f.add_sim("a", sim_args());
  const std::vector<std::string> env = {"HYDRA_CACHE_MODE=deterministic", "HYDRA_CACHE_SEMANTIC=true",
                                        "HYDRA_CACHE_SEMANTIC_MODEL=nomic-embed-text"};
  f.start_gateway(env);
  auto ask = [&](const char* words) {
    return chat(f, std::string(R"({"model":"llama3.2:3b","messages":[{"role":"user","content":")") + words +
                       R"("}],"options":{"temperature":0},"stream":false})");
  };
  auto first = ask("Why is the sky blue?");
  EXPECT_EQ(header(first, "x-hydra-cache"), "miss");
  // The sim's embeddings are bags of lower-cased words: these have the same one (cosine 1).
  auto reworded = ask("why IS the sky blue");
  EXPECT_EQ(header(reworded, "x-hydra-cache"), "hit; tier=semantic; similarity=1.00") << reworded.body;
  EXPECT_EQ(json::parse(reworded.body).at("message").at("content"), json::parse(first.body).at("message").at("content"));
  EXPECT_EQ(json::parse(reworded.body).at("hydra").at("cached"), "semantic");
  // Different words: a different question, answered by the node.
  EXPECT_EQ(header(ask("what colour is grass"), "x-hydra-cache"), "miss");
  EXPECT_EQ(node_calls(f), 2);
  // A conversation is never matched by meaning, only exactly.
  auto turn = chat(f, R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"Why is the sky blue?"}],"options":{"temperature":0},"stream":false})");
  EXPECT_EQ(header(turn, "x-hydra-cache"), "miss");
  // The vectors are kept in SQLite: a restarted gateway still finds the question.
  f.start_gateway(env);
  EXPECT_EQ(header(ask("sky blue WHY is the"), "x-hydra-cache"), "hit; tier=semantic; similarity=1.00");
  const std::string metrics = get(f.gateway(), "/metrics").body;
  EXPECT_NE(metrics.find(R"(hydra_cache_requests_total{tier="semantic",result="hit"} 1)"), std::string::npos) << metrics;
  auto [lint, said] = promtool_check(metrics, f.data_dir());
  EXPECT_EQ(lint, 0) << said;
  auto stats = json::parse(get(f.gateway(), "/stats").body).at("cache").at("tiers").at("semantic");
  EXPECT_GE(stats.at("entries").to_number<int64_t>(), 2) << json::serialize(stats);
  EXPECT_EQ(stats.at("model"), "nomic-embed-text");
}

TEST(Cache, ASemanticModelTheFleetLacksIsSaidOnceAndCostsNoRequest) {
  Fleet f;
  f.add_sim("a", sim_args());
  f.start_gateway({"HYDRA_CACHE_MODE=deterministic", "HYDRA_CACHE_SEMANTIC=true", "HYDRA_CACHE_SEMANTIC_MODEL=nosuch-embed"});
  for (const char* words : {"one question", "another question"}) {
    auto r = chat(f, std::string(R"({"model":"llama3.2:3b","messages":[{"role":"user","content":")") + words +
                         R"("}],"options":{"temperature":0},"stream":false})");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(header(r, "x-hydra-cache"), "miss");
  }
  ASSERT_TRUE(wait_for([&] { return f.gateway_log().find("gave no embedding") != std::string::npos; }, seconds(5)));
  const std::string log = f.gateway_log();
  EXPECT_EQ(log.find("gave no embedding"), log.rfind("gave no embedding")) << "logged once";
}

TEST(Cache, ErrorsAndCutRepliesAreNeverStored) {
  Fleet f;
  f.add_sim("a", sim_args());
  // Continuation off: the relay then ends a stream whose connection closed cleanly, whatever its
  // last line said, and only the cache's own check of the final chunk keeps an error out.
  f.start_gateway({"HYDRA_CACHE_MODE=deterministic", "HYDRA_MAX_ATTEMPTS=1", "HYDRA_CONTINUE_STREAMS=false"});
  // A node error before the reply: the client gets it, nothing is kept.
  ASSERT_EQ(post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"error500","count":1})").status, 200);
  auto failed = chat(f, kWhole);
  EXPECT_GE(failed.status, 500) << failed.body;
  // A stream that breaks off with an error line: the client sees the error, nothing is kept.
  ASSERT_EQ(post(f.sim(0).endpoint, "/_sim/fault", R"({"mode":"error_line","count":1,"after_tokens":2})").status, 200);
  auto broken = chat(f, kStream);
  EXPECT_NE(broken.body.find("\"error\""), std::string::npos) << broken.body;
  EXPECT_EQ(json::parse(get(f.gateway(), "/stats").body).at("cache").at("stored"), 0);
  // Both questions reach the node again, and only now are they stored.
  EXPECT_EQ(header(chat(f, kStream), "x-hydra-cache"), "miss");
  EXPECT_EQ(header(chat(f, kWhole), "x-hydra-cache"), "hit; tier=l1");
  EXPECT_EQ(json::parse(get(f.gateway(), "/stats").body).at("cache").at("stored"), 1);
}
