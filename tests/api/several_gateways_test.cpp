// Several gateways, one fleet (issue #19): three `hydra serve` processes share a real
// redis-server, with real nginx in front where a client would have it; all on loopback.
#include "auth/keys.hpp"
#include "support/fleet.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/redis.hpp"

#include <atomic>
#include <csignal>
#include <deque>
#include <boost/json.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <gtest/gtest.h>
#include <set>
#include <thread>
#include <unistd.h>

namespace hydra::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct Gateway {
  std::string id;
  std::unique_ptr<Process> process;
  Endpoint api;
  std::string url() const { return fmt::format("http://127.0.0.1:{}", api.port()); }
};

std::string scratch_dir(const char* what) {
  std::string pattern = (std::filesystem::temp_directory_path() / (std::string(what) + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Sims, one Redis, and gateways started on demand, each with the sims in `static_sims` as
// --node and its own data directory.
class Trio {
public:
  explicit Trio(std::size_t static_sims = 3) : static_sims_(static_sims) {}
  ~Trio() {
    if (::testing::Test::HasFailure()) report();
    gateways.clear();
    std::error_code ec;
    for (const auto& d : dirs_) std::filesystem::remove_all(d, ec);
  }
  RedisServer redis;
  Fleet fleet;  // its sims (its own gateway is not used)
  std::deque<Gateway> gateways;  // a deque: references to the first stay good as more start

  Gateway& start(const std::string& id, std::vector<std::string> env = {}) {
    dirs_.push_back(scratch_dir("hydra-test-trio"));
    std::vector<std::string> argv{hydra_binary(), "serve", "--listen", "127.0.0.1:0", "--dashboard-listen",
                                  "127.0.0.1:0", "--data-dir", dirs_.back(), "--no-discovery",
                                  "--redis-url", redis.url(), "--gateway-id", id};
    for (std::size_t i = 0; i < static_sims_; ++i) {
      argv.push_back("--node");
      argv.push_back(fleet.sim(i).url() + fleet.sim(i).capacity);
    }
    env.push_back("HYDRA_LOG_LEVEL=debug");
    env.push_back("HYDRA_CACHE_MODE=off");
    if (std::none_of(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("HYDRA_LEASE_TTL_S="); }))
      env.push_back("HYDRA_LEASE_TTL_S=2");
    Gateway g;
    g.id = id;
    g.process = std::make_unique<Process>(argv, env);
    auto api = g.process->wait_for_line([](const std::string& l) { return l.find("Ollama API on") != std::string::npos; },
                                        10s);
    if (!api) throw std::runtime_error("gateway " + id + " did not start");
    g.api = endpoint_from_url(*api);
    auto probed = g.process->wait_for_line(
        [](const std::string& l) { return l.find("nodes reachable") != std::string::npos; }, 10s);
    if (!probed) throw std::runtime_error("gateway " + id + " never probed its nodes");
    gateways.push_back(std::move(g));
    return gateways.back();
  }

  // Every gateway sees the others (its /health lists all of them).
  bool all_see(std::size_t n) {
    for (auto& g : gateways) {
      auto h = get(g.api, "/health");
      if (h.status != 200) return false;
      auto v = json::parse(h.body);
      const auto* shared = v.at("components").as_object().if_contains("shared_state");
      if (!shared || shared->at("gateways").as_array().size() != n) return false;
    }
    return true;
  }

private:
  // After a failure: whether each gateway still runs (128 + N: killed by signal N) and the end
  // of its log, so that a failure seen once in CI says what happened.
  void report() {
    for (auto& g : gateways) {
      const auto exited = g.process->wait_exit(std::chrono::milliseconds(0));
      std::ifstream in(g.process->stderr_path());
      std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (log.size() > 4000) log.erase(0, log.size() - 4000);
      std::cerr << "--- gateway " << g.id << ": " << (exited ? fmt::format("exited {}", *exited) : "running")
                << "; its log ends:\n" << log << "\n";
    }
  }
  std::size_t static_sims_;
  std::vector<std::string> dirs_;
};

// Client threads that stop and are joined however the test ends.
struct Clients {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  ~Clients() { join(); }
  void join() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
};

json::value listed(const Endpoint& gw, const std::string& id) {
  auto r = get(gw, "/nodes");
  if (r.status != 200) return nullptr;
  const json::value all = json::parse(r.body);
  for (const auto& n : all.at("nodes").as_array())
    if (n.at("id") == id.c_str()) return n;
  return nullptr;
}

std::string generate(const std::string& model, int tokens = 4) {
  return fmt::format(R"({{"model":"{}","prompt":"hello","stream":false,"options":{{"num_predict":{}}}}})", model, tokens);
}

TEST(SeveralGateways, ANodeRegisteredOnOneIsRoutedToByAllAndDeletedEverywhere) {
  Trio t(3);
  for (int i = 0; i < 3; ++i) t.fleet.add_sim(fmt::format("s{}", i), {"--model", "common:1b=1", "--load-seconds", "0"});
  auto& joiner = t.fleet.add_sim("joiner", {"--model", "only-joiner:1b=1", "--load-seconds", "0"});
  auto& a = t.start("gw-a");
  auto& b = t.start("gw-b");
  auto& c = t.start("gw-c");
  ASSERT_TRUE(wait_for([&] { return t.all_see(3); }, 5s)) << "the gateways never saw each other";
  // /nodes (and the dashboard's `nodes` event, built alike) lists the live gateways.
  const json::value fleet = json::parse(get(b.api, "/nodes").body);
  ASSERT_EQ(fleet.at("gateways").as_array().size(), 3u);

  auto reg = call(a.api, "POST", "/nodes/register", fmt::format(R"({{"url":"http://{}","name":"box-9"}})", joiner.id));
  ASSERT_EQ(reg.status, 200) << reg.body;
  // The channel carries it at once; the beat would within a second anyway.
  for (auto* g : {&b, &c})
    EXPECT_TRUE(wait_for([&] { return listed(g->api, joiner.id).is_object(); }, 3s)) << g->id << " never heard of it";
  for (auto* g : {&b, &c}) {
    ASSERT_TRUE(wait_for([&] { return post(g->api, "/api/generate", generate("only-joiner:1b")).status == 200; }, 5s));
    auto r = post(g->api, "/api/generate", generate("only-joiner:1b"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-hydra-node"], joiner.id);
  }
  // Heartbeats to any gateway renew it; deleting it on C forgets it everywhere.
  EXPECT_EQ(call(b.api, "POST", "/nodes/" + joiner.id + "/heartbeat", "{}").status, 200);
  ASSERT_EQ(call(c.api, "DELETE", "/nodes/" + joiner.id, "").status, 200);
  for (auto* g : {&a, &b, &c})
    EXPECT_TRUE(wait_for([&] { return listed(g->api, joiner.id).is_null(); }, 3s)) << g->id << " still has it";
  EXPECT_EQ(post(a.api, "/api/generate", generate("only-joiner:1b")).status, 404);
}

TEST(SeveralGateways, ANodeEjectedByOneIsAvoidedByAll) {
  Trio t(2);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0"});
  t.fleet.add_sim("doomed", {"--model", "m:1b=1", "--load-seconds", "0"});
  // A probes every 100 ms; B every minute: only A's probes can find the node gone soon.
  auto& a = t.start("gw-a", {"HYDRA_HEALTH_INTERVAL=0.1"});
  auto& b = t.start("gw-b", {"HYDRA_HEALTH_INTERVAL=60"});
  ASSERT_TRUE(wait_for([&] { return t.all_see(2); }, 5s));
  const std::string doomed = t.fleet.sim(1).id;
  t.fleet.sim(1).process->kill_now();
  auto ejected = [&](const Gateway& g) {
    auto n = listed(g.api, doomed);
    return n.is_object() && n.at("health") == "ejected";
  };
  ASSERT_TRUE(wait_for([&] { return ejected(a); }, 10s)) << "A never ejected the node";
  ASSERT_TRUE(wait_for([&] { return ejected(b); }, 1500ms)) << "B did not hear of the ejection";
  // B's own rule did not eject it (it probes once a minute): A's ejection did.
  EXPECT_EQ(listed(b.api, doomed).at("ejections").to_number<int>(), 0) << listed(b.api, doomed);
  for (int i = 0; i < 5; ++i) {
    auto r = post(b.api, "/api/generate", generate("m:1b", 1));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["x-hydra-node"], t.fleet.sim(0).id);
  }
  auto stats = json::parse(get(b.api, "/stats").body);
  EXPECT_EQ(stats.at("routing").at("failovers").to_number<int>(), 0) << "B tried the ejected node first";
}

TEST(SeveralGateways, ANodesSlotsHoldAcrossGatewaysAndNothingStarves) {
  Trio t(1);
  // A node the gateways are told has 2 slots (it would run 8: each gateway alone would send
  // it 2, 6 in all), slow enough that requests overlap: 12 at once, 4 through each gateway.
  t.fleet.add_sim("pair", {"--model", "m:1b=1", "--load-seconds", "0", "--parallel", "8", "--max-queue", "64",
                           "--tokens-per-second", "40"},
                  "#slots=2");
  t.start("gw-a");
  t.start("gw-b");
  t.start("gw-c");
  ASSERT_TRUE(wait_for([&] { return t.all_see(3); }, 5s));
  std::atomic<int> ok{0}, failed{0};
  Clients clients;
  for (int i = 0; i < 12; ++i)
    clients.threads.emplace_back([&, i] {
      HttpCall c;
      c.method = "POST";
      c.target = "/api/generate";
      c.body = generate("m:1b", 12);
      c.timeout = 60s;
      auto r = request(t.gateways[static_cast<std::size_t>(i % 3)].api, c);
      (r.status == 200 ? ok : failed)++;
    });
  clients.join();
  EXPECT_EQ(ok.load(), 12) << failed.load() << " failed";
  auto stats = t.fleet.sim_stats(0);
  ASSERT_TRUE(stats.is_object());
  EXPECT_LE(stats.at("max_concurrent").to_number<int>(), 2) << "the node ran more than its slots at once";
  EXPECT_EQ(stats.at("max_concurrent").to_number<int>(), 2) << "the slots were never used together";
  // Each request is admitted once, however often Redis refused a slot this gateway saw free.
  int64_t admitted = 0, refused = 0;
  for (auto& g : t.gateways) {
    auto own = json::parse(get(g.api, "/stats").body);
    admitted += own.at("queue").at("admitted").to_number<int64_t>();
    refused += own.at("queue").at("rejected").to_number<int64_t>();
  }
  EXPECT_EQ(admitted, 12);
  EXPECT_EQ(refused, 0);
}

// A plain nginx in front of the gateways, as the README shows it.
class Nginx {
public:
  explicit Nginx(const std::vector<Endpoint>& upstreams) {
    dir_ = scratch_dir("hydra-test-nginx");
    int port = 0;
    {
      boost::asio::io_context io;
      boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
      port = probe.local_endpoint().port();
    }
    std::string servers;
    for (const auto& u : upstreams)
      servers += fmt::format("    server 127.0.0.1:{} max_fails=1 fail_timeout=5s;\n", u.port());
    std::ofstream(dir_ + "/nginx.conf") << (geteuid() == 0 ? "user root;\n" : "") << fmt::format(R"(daemon off;
worker_processes 1;
pid {0}/nginx.pid;
error_log {0}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {0}/body;
  proxy_temp_path {0}/proxy;
  fastcgi_temp_path {0}/fastcgi;
  uwsgi_temp_path {0}/uwsgi;
  scgi_temp_path {0}/scgi;
  upstream hydra {{
{1}    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{2};
    location / {{
      proxy_pass http://hydra;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
      proxy_next_upstream error timeout http_502;
    }}
  }}
}}
)",
                                                       dir_, servers, port);
    const std::string nginx = std::filesystem::exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{nginx, "-p", dir_, "-c", dir_ + "/nginx.conf", "-e", dir_ + "/error.log"});
    endpoint_ = {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)};
    if (!wait_for([&] { return get(endpoint_, "/health").status != 0; }, 10s))
      throw std::runtime_error("nginx did not start");
  }
  ~Nginx() {
    process_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const Endpoint& endpoint() const { return endpoint_; }

private:
  std::string dir_;
  std::unique_ptr<Process> process_;
  Endpoint endpoint_;
};

// The slots other gateways hold on `node`, as gateway `g` sees them.
int elsewhere(const Gateway& g, const std::string& node) {
  auto n = listed(g.api, node);
  return n.is_object() ? n.at("in_flight_elsewhere").to_number<int>() : -1;
}

TEST(SeveralGateways, AKilledGatewayFailsOnlyItsOwnRequestsAndItsLeasesReturn) {
  Trio t(2);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0", "--tokens-per-second", "50"}, "#slots=4");
  t.fleet.add_sim("s1", {"--model", "m:1b=1", "--load-seconds", "0", "--tokens-per-second", "50"}, "#slots=4");
  t.start("gw-a");
  t.start("gw-b");
  auto& c = t.start("gw-c");
  ASSERT_TRUE(wait_for([&] { return t.all_see(3); }, 5s));
  Nginx nginx({t.gateways[0].api, t.gateways[1].api, t.gateways[2].api});
  // Load through nginx, then C dies mid-load while it holds slots.
  std::atomic<int> ok{0}, failed{0};
  Clients clients;
  for (int i = 0; i < 6; ++i)
    clients.threads.emplace_back([&] {
      for (int n = 0; n < 200 && !clients.stop; ++n) {
        HttpCall call;
        call.method = "POST";
        call.target = "/api/generate";
        call.body = generate("m:1b", 8);
        call.timeout = 30s;
        (request(nginx.endpoint(), call).status == 200 ? ok : failed)++;
      }
    });
  ASSERT_TRUE(wait_for([&] { return ok.load() >= 12; }, 20s));
  // C holds slots now (as A sees them), or soon: then it dies.
  wait_for([&] { return elsewhere(t.gateways[0], t.fleet.sim(0).id) + elsewhere(t.gateways[0], t.fleet.sim(1).id) > 0; },
           5s);
  c.process->kill_now();
  const int before_kill = ok.load();
  ASSERT_TRUE(wait_for([&] { return ok.load() >= before_kill + 24; }, 30s)) << "the load stopped after the kill";
  clients.join();
  // Only what C had in flight may fail: at most one per client (6), and nginx retries most.
  EXPECT_LE(failed.load(), 6);
  // Its leases return within lease_ttl_s (2 s here): A sees nothing held elsewhere but B's,
  // which is idle now.
  EXPECT_TRUE(wait_for(
      [&] { return elsewhere(t.gateways[0], t.fleet.sim(0).id) == 0 && elsewhere(t.gateways[0], t.fleet.sim(1).id) == 0; },
      5s));
  auto members = [&] {
    auto h = get(t.gateways[0].api, "/health");
    return h.status == 200 ? json::parse(h.body).at("components").at("shared_state").at("gateways").as_array().size()
                           : std::size_t{0};
  };
  EXPECT_TRUE(wait_for([&] { return members() == 2; }, 5s)) << "the dead gateway is still listed";
}

// A gateway stopped with SIGTERM leaves the shared state when its drain ends: the others stop
// counting it at their next beat (a second), not after its lease_ttl (60 s here).
TEST(SeveralGateways, AGatewayThatShutsDownLeavesAtOnce) {
  Trio t(1);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0"}, "#slots=4");
  t.start("gw-a", {"HYDRA_LEASE_TTL_S=60"});
  auto& b = t.start("gw-b", {"HYDRA_LEASE_TTL_S=60"});
  ASSERT_TRUE(wait_for([&] { return t.all_see(2); }, 5s));
  ASSERT_EQ(post(b.api, "/api/generate", generate("m:1b")).status, 200);  // it held a slot, and gave it back
  ASSERT_EQ(::kill(b.process->pid(), SIGTERM), 0);
  ASSERT_TRUE(b.process->wait_exit(20s).has_value());
  auto members = [&] {
    auto h = get(t.gateways[0].api, "/health");
    return h.status == 200 ? json::parse(h.body).at("components").at("shared_state").at("gateways").as_array().size()
                           : std::size_t{0};
  };
  EXPECT_TRUE(wait_for([&] { return members() == 1; }, 5s)) << "the stopped gateway is still listed";
  // And A takes every slot of the node again: none is held elsewhere.
  EXPECT_EQ(post(t.gateways[0].api, "/api/generate", generate("m:1b")).status, 200);
}

TEST(SeveralGateways, RedisDyingCostsNoRequestAndStateReconcilesWhenItReturns) {
  Trio t(2);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0"}, "#slots=4");
  t.fleet.add_sim("s1", {"--model", "m:1b=1", "--load-seconds", "0"}, "#slots=4");
  auto& late = t.fleet.add_sim("late", {"--model", "late:1b=1", "--load-seconds", "0"});
  auto& a = t.start("gw-a");
  auto& b = t.start("gw-b");
  ASSERT_TRUE(wait_for([&] { return t.all_see(2); }, 5s));
  std::atomic<int> ok{0}, failed{0};
  Clients clients;
  for (int i = 0; i < 4; ++i)
    clients.threads.emplace_back([&, i] {
      for (int n = 0; n < 2000 && !clients.stop; ++n) {
        auto r = post(t.gateways[static_cast<std::size_t>(i % 2)].api, "/api/generate", generate("m:1b", 2));
        (r.status == 200 ? ok : failed)++;
      }
    });
  ASSERT_TRUE(wait_for([&] { return ok.load() >= 10; }, 10s));
  t.redis.kill_now();
  auto degraded = [&](const Gateway& g) {
    auto h = get(g.api, "/health");
    return h.status == 200 && json::parse(h.body).at("status") == "degraded" &&
           json::parse(h.body).at("components").at("shared_state").at("status") == "degraded";
  };
  EXPECT_TRUE(wait_for([&] { return degraded(a) && degraded(b); }, 5s));
  const int at_outage = ok.load();
  EXPECT_TRUE(wait_for([&] { return ok.load() >= at_outage + 20; }, 10s)) << "requests stopped with Redis";
  // Registered while Redis is away: only A knows it, until Redis is back.
  ASSERT_EQ(call(a.api, "POST", "/nodes/register", fmt::format(R"({{"url":"http://{}"}})", late.id)).status, 200);
  t.redis.start();
  EXPECT_TRUE(wait_for([&] { return !degraded(a) && !degraded(b); }, 10s));
  EXPECT_TRUE(wait_for([&] { return listed(b.api, late.id).is_object(); }, 5s)) << "B never heard of the node";
  clients.join();
  EXPECT_EQ(failed.load(), 0) << "a client got an error because Redis went down";
  // Nothing leaked: leases taken while Redis was away and put back when it returned were
  // given back there too, so with the load over no slot is held anywhere.
  for (auto* g : {&a, &b})
    for (std::size_t i = 0; i < 2; ++i)
      EXPECT_TRUE(wait_for([&] { return elsewhere(*g, t.fleet.sim(i).id) == 0; }, 3s))
          << g->id << " still sees slots held elsewhere on " << t.fleet.sim(i).id;
}

TEST(SeveralGateways, APerKeyRpmLimitHoldsAcrossGateways) {
  Trio t(1);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0"}, "#slots=8");
  const std::string dir = scratch_dir("hydra-test-keys");
  const std::string secret = "rpm-secret-1";
  std::ofstream(dir + "/keys.toml") << fmt::format(
      "[[keys]]\nname = \"capped\"\nsha256 = \"{}\"\nrpm = 30\nmodels = [\"m:*\"]\n", auth::to_hex(auth::sha256(secret)));
  for (const char* id : {"gw-a", "gw-b", "gw-c"}) t.start(id, {"HYDRA_API_KEYS_FILE=" + dir + "/keys.toml"});
  ASSERT_TRUE(wait_for([&] { return t.all_see(3); }, 5s));
  int accepted = 0, limited = 0;
  for (int i = 0; i < 60; ++i) {
    const Endpoint& gw = t.gateways[static_cast<std::size_t>(i % 3)].api;
    // A model the key may not use is refused, and not counted in the shared window either
    // (through the same gateway: its Redis commands go in order). Once the window is full, the
    // rate limit answers first.
    if (i % 4 == 0) {
      auto refused = call(gw, "POST", "/api/generate", generate("other:1b", 1), {{"Authorization", "Bearer " + secret}});
      EXPECT_TRUE(refused.status == 403 || (refused.status == 429 && accepted >= 27)) << refused.status;
    }
    auto r = call(gw, "POST", "/api/generate", generate("m:1b", 1), {{"Authorization", "Bearer " + secret}});
    if (r.status == 200) {
      ++accepted;
      // The headers count every gateway's requests, not this one's alone.
      EXPECT_EQ(r.headers["x-ratelimit-remaining-requests"], std::to_string(std::max(0, 30 - accepted)));
    } else if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.headers["x-ratelimit-remaining-requests"], "0");
    }
  }
  std::filesystem::remove_all(dir);
  // 30 a minute across the three (each alone would have let 30 through: 60 in all).
  EXPECT_GE(accepted, 27);
  EXPECT_LE(accepted, 33);
  EXPECT_EQ(accepted + limited, 60);
}

TEST(SeveralGateways, AnOrchestrationStartedOnOneIsReadOnAnother) {
  Trio t(1);
  t.fleet.add_sim("s0", {"--model", "qwen3:1.7b=1.1", "--model", "qwen3:14b=9", "--model", "qwen3:8b=5", "--model",
                         "qwen2.5-coder:14b=9", "--load-seconds", "0", "--tokens-per-second", "2000"});
  auto& a = t.start("gw-a");
  auto& b = t.start("gw-b");
  ASSERT_TRUE(wait_for([&] { return t.all_see(2); }, 5s));
  HttpCall c;
  c.method = "POST";
  c.target = "/orchestrate";
  c.body = R"({"task":"Say hello."})";
  c.timeout = 60s;
  auto r = request(a.api, c);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id(json::parse(r.body).at("task_id").as_string());
  auto read = get(b.api, "/orchestrate/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body).at("task_id").as_string(), id);
  EXPECT_EQ(get(b.api, "/orchestrate/no-such-run").status, 404);
}

TEST(SeveralGateways, ClusterStatsSumEveryGateway) {
  Trio t(1);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0"});
  auto& a = t.start("gw-a");
  auto& b = t.start("gw-b");
  ASSERT_TRUE(wait_for([&] { return t.all_see(2); }, 5s));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(post(a.api, "/api/generate", generate("m:1b", 1)).status, 200);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(post(b.api, "/api/generate", generate("m:1b", 1)).status, 200);
  auto routed = [](const json::value& s) { return s.at("routing").at("decisions").to_number<int64_t>(); };
  EXPECT_TRUE(wait_for(
      [&] {
        auto r = get(b.api, "/stats?scope=cluster");
        if (r.status != 200) return false;
        auto s = json::parse(r.body);
        return s.at("scope") == "cluster" && s.at("gateways").as_array().size() == 2 && routed(s) == 5;
      },
      5s));
  EXPECT_EQ(routed(json::parse(get(b.api, "/stats").body)), 2);  // its own, without the scope
  EXPECT_EQ(json::parse(get(b.api, "/stats").body).at("scope"), "gateway");
  // Settings are not summed; an unknown scope is a mistake.
  auto cluster = json::parse(get(b.api, "/stats?scope=cluster").body);
  auto own = json::parse(get(b.api, "/stats").body);
  EXPECT_EQ(cluster.at("queue").at("capacity"), own.at("queue").at("capacity"));
  EXPECT_EQ(get(b.api, "/stats?scope=everything").status, 400);
  // /metrics tells the shared state's figures, in a form Prometheus accepts.
  auto metrics = get(a.api, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("hydra_shared_redis_up 1\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("hydra_shared_gateways 2\n"), std::string::npos);
  const std::string scratch = scratch_dir("hydra-test-promtool");
  auto [code, said] = promtool_check(metrics.body, scratch);
  std::filesystem::remove_all(scratch);
  EXPECT_EQ(code, 0) << said;
}

TEST(SeveralGateways, TwoProcessesWithOneIdAreReported) {
  Trio t(1);
  t.fleet.add_sim("s0", {"--model", "m:1b=1", "--load-seconds", "0"});
  auto& a = t.start("same");
  auto& b = t.start("same");
  auto reported = [](const Gateway& g) {
    auto h = get(g.api, "/health");
    if (h.status != 200) return false;
    auto v = json::parse(h.body);
    return v.at("status") == "degraded" && v.at("components").at("shared_state").as_object().contains("problem");
  };
  ASSERT_TRUE(wait_for([&] { return reported(a); }, 8s)) << "the first gateway did not notice the shared id";
  // The second one stops: the id is the first's alone again, and its health says so.
  ::kill(b.process->pid(), SIGTERM);
  ASSERT_TRUE(b.process->wait_exit(10s).has_value());
  EXPECT_TRUE(wait_for(
      [&] {
        auto h = get(a.api, "/health");
        if (h.status != 200) return false;
        auto v = json::parse(h.body);
        return v.at("status") == "healthy" && !v.at("components").at("shared_state").as_object().contains("problem");
      },
      10s))
      << get(a.api, "/health").body;
}

}  // namespace
}  // namespace hydra::test
