// API keys through a real `hydra serve` (issue #15): who may call what, per-key limits, the
// dashboard's port, orchestration runs per key, keys re-read on SIGHUP.
#include "auth/keys.hpp"
#include "support/fake_node.hpp"
#include "support/fleet.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;
using hydra::auth::sha256;
using hydra::auth::to_hex;

namespace {

constexpr const char* kUser = "user-secret-1";
constexpr const char* kAdmin = "admin-secret-2";
constexpr const char* kLimited = "limited-secret-3";

// A keys file in a scratch directory, rewritten at will.
struct KeysFile {
  KeysFile() {
    char tmpl[] = "/tmp/hydra-keys-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/keys.toml";
  }
  ~KeysFile() {
    std::remove(path.c_str());
    rmdir(dir.c_str());
  }
  void write(const std::string& text) const {
    std::ofstream(path) << text;
  }
  std::string dir, path;
};

std::string key(const std::string& name, const std::string& secret, const std::string& extra = "") {
  return fmt::format("[[keys]]\nname = \"{}\"\nsha256 = \"{}\"\n{}\n", name, to_hex(sha256(secret)), extra);
}

std::string standard_keys() {
  return key("team", kUser) + key("ops", kAdmin, "admin = true") +
         key("narrow", kLimited, "models = [\"small:*\"]\nrpm = 3\nmax_priority = 2");
}

HttpReply call(const Endpoint& ep, std::string method, std::string target, std::string body, const char* secret,
               std::map<std::string, std::string> headers = {}) {
  if (secret) headers["Authorization"] = std::string("Bearer ") + secret;
  return hydra::test::call(ep, std::move(method), std::move(target), std::move(body), std::move(headers));
}

// A streamed /api/generate on its own thread; begun() once its first piece arrived.
class BackgroundStream {
public:
  BackgroundStream(const Endpoint& ep, const char* secret, int tokens) {
    thread_ = std::thread([this, ep, secret, tokens] {
      HttpCall c;
      c.method = "POST";
      c.target = "/api/generate";
      c.body = fmt::format(R"({{"model":"small:1b","prompt":"a long one","options":{{"num_predict":{}}}}})", tokens);
      c.headers["Authorization"] = std::string("Bearer ") + secret;
      c.timeout = seconds(20);
      c.on_data = [this](std::string_view) {
        begun_ = true;
        return true;
      };
      reply_ = request(ep, c);
    });
  }
  ~BackgroundStream() {
    if (thread_.joinable()) thread_.join();
  }
  bool wait_begun() {
    return wait_for([&] { return begun_.load(); }, seconds(10));
  }
  const HttpReply& finish() {
    thread_.join();
    return reply_;
  }

private:
  std::atomic<bool> begun_{false};
  HttpReply reply_;
  std::thread thread_;
};

const char* kGenerate = R"({"model":"small:1b","prompt":"hello","stream":false})";
const char* kChatOpenAi = R"({"model":"small:1b","messages":[{"role":"user","content":"hi"}]})";

Endpoint dashboard_of(const Fleet& f) {
  EXPECT_NE(f.dashboard().port(), 0) << "the dashboard did not listen";
  return f.dashboard();
}

void start(Fleet& f, const KeysFile& keys, std::vector<std::string> env = {}, std::vector<std::string> sim_args = {}) {
  std::vector<std::string> args{"--model", "small:1b=1", "--model", "big:7b=4", "--load-seconds", "0"};
  args.insert(args.end(), sim_args.begin(), sim_args.end());
  f.add_sim("n1", args);
  env.push_back("HYDRA_API_KEYS_FILE=" + keys.path);
  f.start_gateway(env);
}

}  // namespace

TEST(Auth, NoKeyOrAWrongKeyIs401InEachApisShapeAndAValidKeyPasses) {
  KeysFile keys;
  keys.write(standard_keys());
  Fleet f;
  start(f, keys);
  auto& gw = f.gateway();

  auto none = call(gw, "POST", "/api/generate", kGenerate, nullptr);
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(json::parse(none.body).at("error").is_string()) << none.body;
  auto wrong = call(gw, "POST", "/v1/chat/completions", kChatOpenAi, "not-a-key");
  EXPECT_EQ(wrong.status, 401);
  auto err = json::parse(wrong.body).at("error");
  EXPECT_EQ(err.at("type"), "invalid_request_error") << wrong.body;
  EXPECT_EQ(err.at("code"), "invalid_api_key") << wrong.body;

  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, kUser).status, 200);
  EXPECT_EQ(call(gw, "POST", "/v1/chat/completions", kChatOpenAi, kUser).status, 200);
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, nullptr, {{"X-API-Key", kUser}}).status, 200);
  EXPECT_EQ(call(gw, "GET", "/api/tags", "", nullptr).status, 401);
  EXPECT_EQ(call(gw, "GET", "/api/tags", "", kUser).status, 200);
  // Open to anyone: load balancers' health checks and clients' version probes.
  EXPECT_EQ(call(gw, "GET", "/health", "", nullptr).status, 200);
  EXPECT_EQ(call(gw, "GET", "/api/version", "", nullptr).status, 200);
}

TEST(Auth, AKeyLimitedToSomeModelsGets403ForOthersAndItsPriorityIsCapped) {
  KeysFile keys;
  keys.write(standard_keys());
  Fleet f;
  start(f, keys);
  auto& gw = f.gateway();
  auto refused = call(gw, "POST", "/api/generate", R"({"model":"big:7b","prompt":"x","stream":false})", kLimited);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(json::parse(refused.body).at("error").as_string().find("may not use model \"big:7b\""), std::string::npos);
  EXPECT_EQ(refused.headers["x-ratelimit-remaining-requests"], "3") << "a refused request is not counted";
  auto openai = call(gw, "POST", "/v1/chat/completions",
                     R"({"model":"big:7b","messages":[{"role":"user","content":"x"}]})", kLimited);
  EXPECT_EQ(openai.status, 403);
  EXPECT_EQ(json::parse(openai.body).at("error").at("type"), "permission_error") << openai.body;

  auto capped = call(gw, "POST", "/api/generate", kGenerate, kLimited, {{"X-Hydra-Priority", "9"}});
  ASSERT_EQ(capped.status, 200) << capped.body;
  EXPECT_NE(capped.headers["x-hydra-route-reason"].find("priority lowered from 9 to 2"), std::string::npos)
      << capped.headers["x-hydra-route-reason"];
  EXPECT_EQ(capped.headers["x-ratelimit-remaining-requests"], "2");
  // /generate with no model picks one the key may use (the fleet's nearest to the code model
  // would be big:7b, which it may not).
  auto chosen = call(gw, "POST", "/generate", R"({"prompt":"x","max_tokens":2})", kLimited);
  ASSERT_EQ(chosen.status, 200) << chosen.body;
  EXPECT_EQ(json::parse(chosen.body).at("model"), "small:1b") << chosen.body;
  // /api/show is not counted against the limits: its refusal gives nothing back (it once freed
  // a model request's place in the rpm window, and lowered the key's request count).
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(call(gw, "POST", "/api/show", R"({"model":"big:7b"})", kLimited).status, 403);
  auto after = call(gw, "POST", "/api/generate", kGenerate, kLimited);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.headers["x-ratelimit-remaining-requests"], "0");
  // The admin's /stats counts the refusals under the key's name.
  auto stats = json::parse(call(gw, "GET", "/stats", "", kAdmin).body);
  EXPECT_EQ(stats.at("keys").at("narrow").at("refused").at("model"), 4);
  EXPECT_EQ(stats.at("keys").at("narrow").at("requests"), 3);  // the refused ones do not count
}

TEST(Auth, RequestsPastRpmGet429WithHonestRetryAfterAndOpenAisHeaders) {
  KeysFile keys;
  keys.write(standard_keys());
  Fleet f;
  start(f, keys);
  auto& gw = f.gateway();
  const auto first = steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    auto ok = call(gw, "POST", "/api/generate", kGenerate, kLimited);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.headers["x-ratelimit-limit-requests"], "3");
    EXPECT_EQ(ok.headers["x-ratelimit-remaining-requests"], std::to_string(2 - i));
  }
  auto limited = call(gw, "POST", "/v1/chat/completions", kChatOpenAi, kLimited);
  ASSERT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(json::parse(limited.body).at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(limited.headers["x-ratelimit-remaining-requests"], "0");
  // Retry-After: when the first of the three leaves the minute's window, no earlier.
  const int retry = std::stoi(limited.headers["retry-after"]);
  const auto since_first = duration_cast<seconds>(steady_clock::now() - first).count();
  EXPECT_GE(retry, 60 - since_first - 1);
  EXPECT_LE(retry, 60);
  EXPECT_FALSE(limited.headers["x-ratelimit-reset-requests"].empty());
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, nullptr).status, 401);
  // Another key is not affected.
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, kUser).status, 200);
  auto metrics = call(gw, "GET", "/metrics", "", nullptr).body;  // auth.metrics = open (default)
  EXPECT_NE(metrics.find("hydra_key_refusals_total{key=\"narrow\",reason=\"rpm\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("hydra_key_requests_total{key=\"narrow\"} 3"), std::string::npos);
  EXPECT_NE(metrics.find("hydra_key_refusals_total{key=\"\",reason=\"missing_key\"} 1"), std::string::npos);
  EXPECT_EQ(metrics.find("hydra_key_tokens_total{key=\"narrow\"} 0"), std::string::npos) << "tokens are counted";
  auto [status, said] = promtool_check(metrics, keys.dir);
  EXPECT_EQ(status, 0) << said;
}

TEST(Auth, MaxConcurrentHolds) {
  KeysFile keys;
  keys.write(key("one-at-a-time", kUser, "max_concurrent = 1") + key("ops", kAdmin, "admin = true"));
  Fleet f;
  start(f, keys, {}, {"--tokens-per-second", "40"});
  auto& gw = f.gateway();
  BackgroundStream first(gw, kUser, 60);
  ASSERT_TRUE(first.wait_begun());
  auto second = call(gw, "POST", "/api/generate", kGenerate, kUser);
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_EQ(second.headers["retry-after"], "1");
  const HttpReply& streamed = first.finish();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.complete);
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, kUser).status, 200);  // its place is free again
}

// An Ollama client stops reading at the chunk that says "done" and may send its next request
// at once, before the gateway has had the rest of the stream from the node: the key's place
// must be free from that chunk on. This node holds its stream's end until the test lets go.
TEST(Auth, AKeysPlaceIsFreeOnceTheFinalChunkIsOut) {
  namespace asio = boost::asio;
  using hydra::http::bhttp::status;
  std::atomic<bool> let_go{false};
  FakeNode node([&](hydra::http::Exchange& ex) -> hydra::http::awaitable<void> {
    const std::string_view path = ex.path();
    const bool held = path == "/api/generate" && ex.body().find("held") != std::string::npos;
    if (!held) {
      std::string reply = R"({"models":[]})";
      if (path == "/api/version") reply = R"({"version":"0.12.6"})";
      if (path == "/api/tags") reply = R"({"models":[{"name":"small:1b","size":1000}]})";
      if (path == "/api/generate") reply = R"({"model":"small:1b","response":"ok","done":true})";
      co_await ex.respond(status::ok, reply);
      co_return;
    }
    co_await ex.begin_stream(status::ok, "application/x-ndjson");
    co_await ex.send_chunk(R"({"model":"small:1b","response":"one","done":false})" "\n");
    co_await ex.send_chunk(R"({"model":"small:1b","response":"","done":true,"eval_count":1})" "\n");
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (auto until = steady_clock::now() + seconds(10); !let_go && steady_clock::now() < until;) {
      t.expires_after(milliseconds(5));
      co_await t.async_wait(hydra::http::use_nothrow);
    }
    co_await ex.end_stream();
  });
  KeysFile keys;
  keys.write(key("one-at-a-time", kUser, "max_concurrent = 1"));
  Fleet f;
  f.start_gateway({"HYDRA_API_KEYS_FILE=" + keys.path}, {"--node", node.url()});
  std::atomic<bool> final_chunk{false};
  HttpReply held;
  std::thread first([&] {
    HttpCall c;
    c.method = "POST";
    c.target = "/api/generate";
    c.body = R"({"model":"small:1b","prompt":"held"})";
    c.headers["Authorization"] = std::string("Bearer ") + kUser;
    c.timeout = seconds(20);
    c.on_data = [&](std::string_view piece) {
      if (piece.find(R"("done":true)") != std::string_view::npos) final_chunk = true;
      return true;
    };
    held = request(f.gateway(), c);
  });
  const bool had_final = wait_for([&] { return final_chunk.load(); }, seconds(10));
  const auto next = call(f.gateway(), "POST", "/api/generate", kGenerate, kUser);
  let_go = true;
  first.join();
  ASSERT_TRUE(had_final);
  EXPECT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(held.status, 200);
  EXPECT_TRUE(held.complete);
}

TEST(Auth, OnlyAdminKeysManageNodesAndModelsAndReadTheLiveViews) {
  KeysFile keys;
  keys.write(standard_keys());
  Fleet f;
  start(f, keys, {"HYDRA_REGISTRATION_TOKEN=agent-token"});
  auto& gw = f.gateway();
  const std::string reg = fmt::format(R"({{"url":"http://{}"}})", f.sim(0).id);
  for (auto [method, target, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/nodes", ""},
           {"GET", "/stats", ""},
           {"GET", "/routing", ""},
           {"POST", "/nodes/register", reg},
           {"DELETE", "/nodes/" + f.sim(0).id, ""},
           {"POST", "/api/pull", R"({"model":"small:1b","stream":false})"},
           {"DELETE", "/api/delete", R"({"model":"small:1b"})"},
           {"POST", "/api/copy", R"({"source":"small:1b","destination":"x"})"},
           {"POST", "/api/create", R"({"model":"x","from":"small:1b"})"}}) {
    auto r = call(gw, method, target, body, kUser);
    EXPECT_EQ(r.status, 403) << method << " " << target << " -> " << r.body;
    EXPECT_NE(r.body.find("not an admin key"), std::string::npos) << r.body;
  }
  EXPECT_EQ(call(gw, "GET", "/nodes", "", kAdmin).status, 200);
  EXPECT_EQ(call(gw, "POST", "/api/pull", R"({"model":"small:1b","stream":false})", kAdmin).status, 200);
  // The agents' registration token still works for registration, and only there.
  EXPECT_EQ(call(gw, "POST", "/nodes/register", reg, "agent-token").status, 200);
  EXPECT_EQ(call(gw, "GET", "/nodes", "", "agent-token").status, 401);
  // A cross-origin text/plain POST (no CORS preflight) cannot register.
  auto plain = call(gw, "POST", "/nodes/register", reg, kAdmin, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(plain.status, 415) << plain.body;
  // The metrics stay open by default; the event stream takes the key as a query parameter.
  EXPECT_EQ(call(gw, "GET", "/metrics", "", nullptr).status, 200);
  EXPECT_EQ(call(gw, "GET", "/events", "", nullptr).status, 401);
  HttpCall events;
  events.target = std::string("/events?key=") + kAdmin;
  events.on_data = [](std::string_view) { return false; };  // the head is enough
  EXPECT_EQ(request(gw, events).status, 200);
}

TEST(Auth, MetricsCanBeAdminOnly) {
  KeysFile keys;
  keys.write(standard_keys());
  Fleet f;
  start(f, keys, {"HYDRA_AUTH_METRICS=admin"});
  EXPECT_EQ(call(f.gateway(), "GET", "/metrics", "", nullptr).status, 401);
  EXPECT_EQ(call(f.gateway(), "GET", "/metrics", "", kUser).status, 403);
  EXPECT_EQ(call(f.gateway(), "GET", "/metrics", "", kAdmin).status, 200);
}

TEST(Auth, AKeySeesOnlyItsOwnOrchestrationRuns) {
  KeysFile keys;
  keys.write(standard_keys() + key("other", "other-secret-4"));
  Fleet f;
  std::vector<std::string> models{"--model", "qwen3:1.7b=1.1", "--model", "qwen3:14b=9", "--load-seconds", "0"};
  f.add_sim("n1", models);
  f.start_gateway({"HYDRA_API_KEYS_FILE=" + keys.path});
  auto& gw = f.gateway();
  auto run = call(gw, "POST", "/orchestrate", R"({"task":"my password is hunter2","max_subtasks":1})", kUser);
  ASSERT_TRUE(run.status == 200 || run.status == 502) << run.body;
  const std::string id(json::parse(run.body).at("task_id").as_string());
  EXPECT_EQ(json::parse(run.body).at("owner"), "team");

  auto listed = [&](const char* secret) {
    auto body = json::parse(call(gw, "GET", "/orchestrate", "", secret).body);
    std::vector<std::string> ids;
    for (const auto& r : body.at("runs").as_array()) ids.emplace_back(r.at("task_id").as_string());
    return ids;
  };
  EXPECT_EQ(listed(kUser), std::vector<std::string>{id});
  EXPECT_TRUE(listed("other-secret-4").empty());
  EXPECT_EQ(listed(kAdmin), std::vector<std::string>{id});
  EXPECT_EQ(call(gw, "GET", "/orchestrate/" + id, "", "other-secret-4").status, 404);
  EXPECT_EQ(call(gw, "GET", "/orchestrate/" + id, "", kUser).status, 200);
  EXPECT_EQ(call(gw, "GET", "/orchestrate/" + id, "", kAdmin).status, 200);
  // A key limited to some models must name them.
  auto narrow = call(gw, "POST", "/orchestrate", R"({"task":"x"})", kLimited);
  EXPECT_EQ(narrow.status, 403) << narrow.body;
}

TEST(Auth, TheDashboardPortServesThePageAndReadOnlyViewsOnly) {
  KeysFile keys;
  keys.write(standard_keys());
  Fleet f;
  start(f, keys);
  Endpoint dash = dashboard_of(f);
  EXPECT_EQ(call(dash, "GET", "/", "", nullptr).status, 200);  // the page asks for the key itself
  auto config = json::parse(call(dash, "GET", "/dashboard/config", "", nullptr).body);
  EXPECT_EQ(config.at("auth"), true);
  EXPECT_EQ(config.at("api_port"), f.gateway().port());
  EXPECT_EQ(call(dash, "GET", "/stats", "", nullptr).status, 401);
  EXPECT_EQ(call(dash, "GET", "/stats", "", kUser).status, 403);
  EXPECT_EQ(call(dash, "GET", "/stats", "", kAdmin).status, 200);
  EXPECT_EQ(call(dash, "GET", "/nodes", "", kAdmin).status, 200);
  // Nothing that uses or changes the fleet, whatever the key.
  EXPECT_EQ(call(dash, "POST", "/api/generate", kGenerate, kAdmin).status, 404);
  EXPECT_EQ(call(dash, "POST", "/api/pull", R"({"model":"small:1b"})", kAdmin).status, 404);
  EXPECT_EQ(call(dash, "POST", "/generate", R"({"prompt":"x"})", kAdmin).status, 404);
  EXPECT_EQ(call(dash, "POST", "/nodes/register", "{}", kAdmin).status, 404);
}

TEST(Auth, SighupAddsAndRevokesKeysWithoutDroppingAStreamInFlight) {
  KeysFile keys;
  keys.write(key("old", kUser));
  Fleet f;
  start(f, keys, {}, {"--tokens-per-second", "30"});
  auto& gw = f.gateway();
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, kAdmin).status, 401);
  BackgroundStream stream(gw, kUser, 40);
  ASSERT_TRUE(stream.wait_begun());
  keys.write(key("new", kAdmin));
  ::kill(f.gateway_pid(), SIGHUP);
  EXPECT_TRUE(wait_for([&] { return call(gw, "POST", "/api/generate", kGenerate, kAdmin).status == 200; }, seconds(10)))
      << f.gateway_log();
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, kUser).status, 401);  // revoked
  const HttpReply& streamed = stream.finish();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.complete);
  EXPECT_NE(streamed.body.find("\"done\":true"), std::string::npos) << streamed.body.substr(0, 400);
  // A broken keys file keeps the keys in force.
  keys.write("[[keys]]\nname = \"broken\"\n");
  ::kill(f.gateway_pid(), SIGHUP);
  EXPECT_TRUE(wait_for([&] { return f.gateway_log().find("API keys not changed") != std::string::npos; }, seconds(10)));
  EXPECT_EQ(call(gw, "POST", "/api/generate", kGenerate, kAdmin).status, 200);
}

TEST(Auth, WithoutKeysTheApiIsOpenAsBefore) {
  Fleet f;
  f.add_sim("n1", {"--model", "small:1b=1", "--load-seconds", "0"});
  f.start_gateway();
  EXPECT_EQ(call(f.gateway(), "POST", "/api/generate", kGenerate, nullptr).status, 200);
  EXPECT_EQ(call(f.gateway(), "GET", "/nodes", "", nullptr).status, 200);
  auto config = json::parse(call(dashboard_of(f), "GET", "/dashboard/config", "", nullptr).body);
  EXPECT_EQ(config.at("auth"), false);
}

// Browser apps: a preflight from one of Ollama's default origins (or a configured one) is
// answered with what may be sent; another origin gets no Access-Control-Allow-Origin.
TEST(Cors, PreflightsAndRepliesCarryTheHeadersBrowsersNeed) {
  Fleet f;
  f.add_sim("n1", {"--model", "small:1b=1", "--load-seconds", "0"});
  f.start_gateway({"HYDRA_ORIGINS=https://*.example.com"});
  auto& gw = f.gateway();
  for (const char* origin : {"http://localhost:3000", "http://127.0.0.1:5173", "app://obsidian.md",
                             "vscode-webview://abc", "https://chat.example.com"}) {
    auto pre = call(gw, "OPTIONS", "/api/chat", "", nullptr,
                    {{"Origin", origin}, {"Access-Control-Request-Method", "POST"},
                     {"Access-Control-Request-Headers", "content-type, authorization, x-stainless-os"}});
    EXPECT_EQ(pre.status, 204) << origin;
    EXPECT_EQ(pre.headers["access-control-allow-origin"], origin);
    EXPECT_NE(pre.headers["access-control-allow-methods"].find("POST"), std::string::npos) << origin;
    EXPECT_NE(pre.headers["access-control-allow-headers"].find("x-stainless-os"), std::string::npos) << origin;
    auto reply = call(gw, "POST", "/api/generate", kGenerate, nullptr, {{"Origin", origin}});
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.headers["access-control-allow-origin"], origin);
    EXPECT_NE(reply.headers["access-control-expose-headers"].find("X-Hydra-Node"), std::string::npos);
    EXPECT_NE(reply.headers["access-control-expose-headers"].find("X-Hydra-Cache"), std::string::npos);
  }
  for (const char* origin : {"https://evil.example.org", "http://10.1.2.3:3000", "null"}) {
    auto pre = call(gw, "OPTIONS", "/v1/chat/completions", "", nullptr,
                    {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_NE(pre.status, 405) << origin;  // answered, without permission
    EXPECT_EQ(pre.headers.count("access-control-allow-origin"), 0u) << origin;
    auto reply = call(gw, "POST", "/api/generate", kGenerate, nullptr, {{"Origin", origin}});
    EXPECT_EQ(reply.headers.count("access-control-allow-origin"), 0u) << origin;
  }
}

TEST(Auth, KeysNewPrintsAKeyOnceAndTheBlockThatConfiguresIt) {
  Process made({hydra_binary(), "keys", "new", "cli-bot", "--admin"});
  auto secret = made.wait_for_line([](const std::string& l) { return l.starts_with("hyd_"); }, seconds(10));
  ASSERT_TRUE(secret);
  ASSERT_EQ(made.wait_exit(seconds(10)), 0);
  std::ifstream err(made.stderr_path());
  std::string block((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  block = block.substr(block.find("[[auth.keys]]"));
  EXPECT_EQ(block.find(*secret), std::string::npos) << "only the digest is in the block";
  KeysFile keys;
  keys.write(block);
  Fleet f;
  start(f, keys);
  EXPECT_EQ(call(f.gateway(), "GET", "/nodes", "", secret->c_str()).status, 200);
  // The CLI's client commands send HYDRA_API_KEY.
  const std::string url = fmt::format("http://127.0.0.1:{}", f.gateway().port());
  Process listed({hydra_binary(), "nodes", "--gateway", url}, {"HYDRA_API_KEY=" + *secret});
  EXPECT_TRUE(listed.wait_for_line([&](const std::string& l) { return l.find(f.sim(0).id) != std::string::npos; },
                                   seconds(10)));
  Process refused({hydra_binary(), "nodes", "--gateway", url});
  EXPECT_NE(refused.wait_exit(seconds(10)).value_or(0), 0);
}
