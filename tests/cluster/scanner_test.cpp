// The subnet scanner: pure helpers, in-process scans against small servers on loopback
// addresses, a scan of 39 `hydra sim` nodes, and `hydra discover` as a process.
// Only 127.0.0.0/8 is ever targeted.
#include "cluster/scanner.hpp"
#include "http/server.hpp"
#include "support/process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

using namespace hydra;
using namespace hydra::cluster;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

Ipv4 ip(const std::string& text) { return asio::ip::make_address_v4(text); }
Cidr cidr(const char* text) { return parse_cidr(text).cidr.value(); }

// A port that was free on 127.0.0.1 a moment ago.
uint16_t free_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(ip("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// Runs the scan on `ioc` (with whatever servers live there) for at most `limit`.
std::optional<ScanResult> run_scan(asio::io_context& ioc, ScanOptions o, std::chrono::milliseconds limit = 10s) {
  std::optional<ScanResult> out;
  asio::co_spawn(ioc, scan(ioc.get_executor(), nullptr, std::move(o)), [&](std::exception_ptr e, ScanResult r) {
    if (!e) out = std::move(r);
    ioc.stop();
  });
  ioc.run_for(limit);
  ioc.restart();
  return out;
}

std::vector<std::string> urls(const ScanResult& r) {
  std::vector<std::string> out;
  for (const auto& n : r.nodes) out.push_back(n.url);
  return out;
}

// --- small in-process servers --------------------------------------------------------------

json::value version_body() {
  json::object o;
  o["version"] = "0.0.0-test";
  return o;
}

http::Response redirect_to(std::string location) {
  http::Response res{http::bhttp::status::found, 11};
  res.set(http::bhttp::field::location, location);
  return res;
}

// Answers like Ollama: /api/version and an empty /api/tags. Counts requests.
struct FakeOllama {
  int requests = 0;
  http::Handler handler() {
    return [this](http::Exchange& ex) -> http::awaitable<void> {
      ++requests;
      if (ex.path() == "/api/version") {
        auto body = version_body();
        co_await ex.respond_json(http::bhttp::status::ok, body);
      } else if (ex.path() == "/api/tags") {
        co_await ex.respond(http::bhttp::status::ok, "{\"models\":[]}");
      } else {
        co_await ex.respond_error(http::bhttp::status::not_found, "404 page not found");
      }
    };
  }
};

http::Handler not_found_handler() {
  return [](http::Exchange& ex) -> http::awaitable<void> {
    co_await ex.respond(http::bhttp::status::not_found, "404 page not found", "text/plain");
  };
}

// Redirects everything to a real Ollama elsewhere: must not be followed or admitted.
http::Handler redirect_handler(std::string location) {
  return [location](http::Exchange& ex) -> http::awaitable<void> {
    auto res = redirect_to(location + std::string(ex.path()));
    co_await ex.respond(std::move(res));
  };
}

bool nothing_waiting(tcp::acceptor& a) {
  a.non_blocking(true);
  boost::system::error_code ec;
  tcp::socket s(a.get_executor());
  a.accept(s, ec);
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// --- running `hydra` -----------------------------------------------------------------------

struct Ran {
  int status = -1;  // exit status; -1: killed at the deadline
  std::string out;
};

// Runs hydra with `args` to completion (at most `limit`), capturing stdout.
Ran run_hydra(std::vector<std::string> args, std::chrono::milliseconds limit = 20s) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::vector<std::string> argv{test::hydra_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(fds[1]);
  Ran r;
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  bool eof = false;
  while (!eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    auto n = read(fds[0], buf, sizeof buf);
    if (n > 0) r.out.append(buf, static_cast<std::size_t>(n));
    else eof = true;
  }
  close(fds[0]);
  int status = 0;
  if (!eof) kill(pid, SIGKILL);  // past the deadline
  waitpid(pid, &status, 0);
  if (!eof) return r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace

// --- pure helpers --------------------------------------------------------------------------

TEST(ScannerParse, Version) {
  EXPECT_EQ(parse_version(R"({"version":"0.5.7"})").value_or(""), "0.5.7");
  EXPECT_FALSE(parse_version(R"({"version":5})"));
  EXPECT_FALSE(parse_version(R"({"error":"x"})"));
  EXPECT_FALSE(parse_version("404 page not found"));
  EXPECT_FALSE(parse_version(""));
}

TEST(ScannerParse, Digests) {
  auto d = parse_digests(R"({"models":[{"name":"b","digest":"bb"},{"name":"a","digest":"aa"},{"name":"c"}]})");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<std::string>{"aa", "bb"}));
  EXPECT_FALSE(parse_digests("{}"));
  EXPECT_FALSE(parse_digests("nope"));
}

TEST(Duplicates, LoopbackAndOwnLanAddressWithSameIdentityAreOneNode) {
  std::vector<Candidate> c{
      {ip("127.0.0.1"), 11434, "0.5.7", {"d2", "d1"}},
      {ip("192.168.1.37"), 11434, "0.5.7", {"d1", "d2"}},
      {ip("192.168.1.50"), 11434, "0.5.7", {"d1", "d2"}},  // another machine, same models
  };
  auto groups = group_duplicates(c, {ip("192.168.1.37")});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<std::size_t>{1, 0}));  // the LAN address first
  EXPECT_EQ(groups[1], (std::vector<std::size_t>{2}));
}

TEST(Duplicates, DifferencesKeepNodesApart) {
  const std::vector<Ipv4> local{ip("192.168.1.37")};
  auto apart = [&](Candidate a, Candidate b) { return group_duplicates({a, b}, local).size() == 2; };
  Candidate lan{ip("192.168.1.37"), 11434, "0.5.7", {"d1"}};
  EXPECT_TRUE(apart({ip("127.0.0.1"), 11434, "0.5.8", {"d1"}}, lan));      // version differs
  EXPECT_TRUE(apart({ip("127.0.0.1"), 11434, "0.5.7", {"d1", "d3"}}, lan)); // models differ
  EXPECT_TRUE(apart({ip("127.0.0.1"), 11435, "0.5.7", {"d1"}}, lan));       // port differs
  // Not this machine's address: another host that happens to look alike.
  EXPECT_TRUE(apart({ip("127.0.0.1"), 11434, "0.5.7", {"d1"}}, {ip("192.168.1.50"), 11434, "0.5.7", {"d1"}}));
  // No local addresses known: no merging at all.
  EXPECT_EQ(group_duplicates({{ip("127.0.0.1"), 11434, "0.5.7", {"d1"}}, lan}, {}).size(), 2u);
  // Two loopback answers are two nodes (sims on 127.0.0.2 and 127.0.0.3).
  EXPECT_TRUE(apart({ip("127.0.0.2"), 11434, "0.5.7", {"d1"}}, {ip("127.0.0.3"), 11434, "0.5.7", {"d1"}}));
  EXPECT_TRUE(group_duplicates({}, local).empty());
}

// --- in-process scans ----------------------------------------------------------------------

// On 127.0.0.2..6 (one port P): an Ollama, a 404 server, a redirect to the Ollama, a port that
// accepts but never answers; plus an rpc-server port on 127.0.0.6.
TEST(Scan, AdmitsOnlyServersThatAnswerLikeOllama) {
  asio::io_context ioc(1);
  FakeOllama ollama;
  std::unique_ptr<http::Server> s_ollama, s_404, s_redirect;
  std::unique_ptr<tcp::acceptor> silent, rpc;
  uint16_t port = 0, rpc_port = 0;
  for (int attempt = 0; attempt < 5 && !rpc; ++attempt) {
    s_ollama = std::make_unique<http::Server>(ioc.get_executor(), ollama.handler());
    auto bound = s_ollama->listen(tcp::endpoint(ip("127.0.0.2"), 0));
    ASSERT_TRUE(bound);
    port = bound->port();
    s_404 = std::make_unique<http::Server>(ioc.get_executor(), not_found_handler());
    s_redirect = std::make_unique<http::Server>(ioc.get_executor(),
                                                redirect_handler(fmt::format("http://127.0.0.2:{}", port)));
    if (!s_404->listen(tcp::endpoint(ip("127.0.0.3"), port))) continue;
    if (!s_redirect->listen(tcp::endpoint(ip("127.0.0.4"), port))) continue;
    try {
      silent = std::make_unique<tcp::acceptor>(ioc, tcp::endpoint(ip("127.0.0.5"), port));
      rpc_port = free_port();
      rpc = std::make_unique<tcp::acceptor>(ioc, tcp::endpoint(ip("127.0.0.6"), rpc_port));
    } catch (const std::exception&) {
      silent.reset();
      rpc.reset();
    }
  }
  ASSERT_TRUE(rpc) << "could not bind the test servers";

  ScanOptions o;
  o.targets = {cidr("127.0.0.0/29")};  // 127.0.0.1 .. 127.0.0.6
  o.ports = {port};
  o.rpc_ports = {rpc_port};
  o.request_timeout = 500ms;
  auto r = run_scan(ioc, o);
  ASSERT_TRUE(r) << "the scan did not finish";
  EXPECT_TRUE(r->error.empty()) << r->error;
  ASSERT_EQ(urls(*r), std::vector<std::string>{fmt::format("http://127.0.0.2:{}", port)});
  EXPECT_EQ(r->nodes[0].version, "0.0.0-test");
  EXPECT_EQ(r->nodes[0].kind, ServerKind::ollama);
  EXPECT_GE(r->nodes[0].latency_ms, 0);
  ASSERT_EQ(r->rpc.size(), 1u);
  EXPECT_EQ(r->rpc[0].id(), fmt::format("127.0.0.6:{}", rpc_port));
  EXPECT_EQ(r->addresses_probed, 6u);
  EXPECT_EQ(r->addresses_skipped, 0u);
  EXPECT_EQ(r->open_ports, 5u);  // 4 HTTP-ish + 1 rpc
  ASSERT_EQ(r->rejected.size(), 3u);
  EXPECT_EQ(r->rejected[0].rfind(fmt::format("127.0.0.3:{}", port), 0), 0u) << r->rejected[0];
  EXPECT_EQ(r->rejected[1].rfind(fmt::format("127.0.0.4:{}", port), 0), 0u) << r->rejected[1];
  EXPECT_EQ(r->rejected[2].rfind(fmt::format("127.0.0.5:{}", port), 0), 0u) << r->rejected[2];
  // The redirect was not followed: the Ollama saw only the scanner's own two requests.
  EXPECT_EQ(ollama.requests, 2);
}

TEST(Scan, NeverContactsAddressesOutsideTheAllowedRanges) {
  asio::io_context ioc(1);
  FakeOllama inside, outside;
  std::unique_ptr<http::Server> s_inside, s_outside;
  std::unique_ptr<tcp::acceptor> watcher;
  uint16_t port = 0;
  for (int attempt = 0; attempt < 5 && !watcher; ++attempt) {
    s_inside = std::make_unique<http::Server>(ioc.get_executor(), inside.handler());
    auto bound = s_inside->listen(tcp::endpoint(ip("127.0.0.2"), 0));
    ASSERT_TRUE(bound);
    port = bound->port();
    s_outside = std::make_unique<http::Server>(ioc.get_executor(), outside.handler());
    if (!s_outside->listen(tcp::endpoint(ip("127.0.0.5"), port))) continue;
    try {
      watcher = std::make_unique<tcp::acceptor>(ioc, tcp::endpoint(ip("127.0.0.6"), port));
    } catch (const std::exception&) {
    }
  }
  ASSERT_TRUE(watcher) << "could not bind the test servers";

  ScanOptions o;
  o.targets = {cidr("127.0.0.0/29")};  // 127.0.0.1 .. 127.0.0.6
  o.allowed = {cidr("127.0.0.0/30")};  // 127.0.0.0 .. 127.0.0.3
  o.ports = {port};
  o.rpc_ports = {port};
  auto r = run_scan(ioc, o);
  ASSERT_TRUE(r) << "the scan did not finish";
  EXPECT_EQ(urls(*r), std::vector<std::string>{fmt::format("http://127.0.0.2:{}", port)});
  EXPECT_EQ(r->addresses_probed, 3u);
  EXPECT_EQ(r->addresses_skipped, 3u);
  EXPECT_EQ(outside.requests, 0);
  EXPECT_TRUE(nothing_waiting(*watcher)) << "127.0.0.6 was connected to";
  // The rpc port on 127.0.0.2 is the Ollama port here: listed as open, inside the range only.
  ASSERT_EQ(r->rpc.size(), 1u);
  EXPECT_EQ(r->rpc[0].id(), fmt::format("127.0.0.2:{}", port));
}

TEST(Scan, PortListsAndRanges) {
  EXPECT_EQ(parse_port_list("11434").ports, (std::vector<uint16_t>{11434}));
  EXPECT_EQ(parse_port_list("11434,11436-11438,11434").ports, (std::vector<uint16_t>{11434, 11436, 11437, 11438}));
  EXPECT_EQ(parse_port_list("1-64").ports.size(), 64u);
  for (const char* bad : {"", "0", "65536", "abc", "11434,", "11438-11434", "1-65", "5-", "-5", "1,,2", " 1"})
    EXPECT_FALSE(parse_port_list(bad).error.empty()) << bad;
  EXPECT_NE(parse_port_list("1-65").error.find("at most 64"), std::string::npos);
}

TEST(Scan, AHydraGatewayNamesItselfInItsVersion) {
  EXPECT_TRUE(names_hydra(R"({"version":"0.12.6","hydra":"0.1.0"})"));
  EXPECT_FALSE(names_hydra(R"({"version":"0.12.6"})"));
  EXPECT_FALSE(names_hydra(R"({"version":"0.12.6","hydra":1})"));
  EXPECT_FALSE(names_hydra("not json"));
}

TEST(Scan, RefusesTooManyAddressesWithoutContactingAny) {
  asio::io_context ioc(1);
  ScanOptions o;
  o.targets = {cidr("127.0.0.0/16"), cidr("127.1.0.0/24")};
  auto r = run_scan(ioc, o);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error.empty());
  EXPECT_EQ(r->addresses_probed, 0u);
  EXPECT_TRUE(r->nodes.empty());
}

TEST(Scan, NothingToScanFinishesAtOnce) {
  asio::io_context ioc(1);
  ScanOptions o;
  auto r = run_scan(ioc, o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->nodes.empty());
  EXPECT_EQ(r->addresses_probed, 0u);
}

// --- 39 `hydra sim` nodes on 127.0.0.2 .. 127.0.0.40 ---------------------------------------

class SimFleetScan : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    for (int attempt = 0; attempt < 2 && !sims_; ++attempt) {
      port_ = free_port();
      auto p = std::make_unique<test::Process>(std::vector<std::string>{
          test::hydra_binary(), "sim", "--addresses", "127.0.0.2-127.0.0.40", "--listen",
          fmt::format("127.0.0.1:{}", port_)});
      auto last = fmt::format("http://127.0.0.40:{}", port_);
      if (p->wait_for_line([&](const std::string& l) { return l.find(last) != std::string::npos; }, 20s))
        sims_ = std::move(p);
    }
  }
  static void TearDownTestSuite() { sims_.reset(); }
  void SetUp() override { ASSERT_TRUE(sims_) << "hydra sim did not start"; }

  static std::set<std::string> expected(int first, int last) {
    std::set<std::string> out;
    for (int i = first; i <= last; ++i) out.insert(fmt::format("http://127.0.0.{}:{}", i, port_));
    return out;
  }

  static inline std::unique_ptr<test::Process> sims_;
  static inline uint16_t port_ = 0;
};

TEST_F(SimFleetScan, FindsExactlyThe39SimsInSlash26) {
  asio::io_context ioc(1);
  ScanOptions o;
  o.targets = {cidr("127.0.0.0/26")};
  o.ports = {port_};
  auto started = std::chrono::steady_clock::now();
  auto r = run_scan(ioc, o, 10s);  // a safety deadline, not a performance assertion
  ASSERT_TRUE(r) << "the scan did not finish within 10 s";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  auto found = urls(*r);
  EXPECT_EQ(std::set<std::string>(found.begin(), found.end()), expected(2, 40));
  EXPECT_EQ(found.size(), 39u);
  for (const auto& n : r->nodes) {
    EXPECT_EQ(n.kind, ServerKind::ollama);
    EXPECT_FALSE(n.version.empty());
    EXPECT_FALSE(n.digests.empty()) << n.url;
    EXPECT_TRUE(n.also_at.empty());
  }
  EXPECT_EQ(r->addresses_probed, 62u);
  EXPECT_EQ(r->open_ports, 39u);
  EXPECT_TRUE(r->rejected.empty());
}

TEST_F(SimFleetScan, DiscoverCommandPrintsJson) {
  auto ran = run_hydra({"discover", "127.0.0.0/27", "--port", std::to_string(port_), "--json"});
  ASSERT_EQ(ran.status, 0) << ran.out;
  boost::system::error_code ec;
  auto v = json::parse(ran.out, ec);
  ASSERT_FALSE(ec) << ran.out;
  std::set<std::string> found;
  for (const auto& n : v.at("nodes").as_array()) {
    found.insert(std::string(n.at("url").as_string()));
    EXPECT_FALSE(n.at("version").as_string().empty());
    EXPECT_TRUE(n.at("latency_ms").is_number());
  }
  EXPECT_EQ(found, expected(2, 30));  // 127.0.0.31 is the /27's broadcast address
  EXPECT_EQ(v.at("addresses_probed").to_number<int64_t>(), 30);
  EXPECT_TRUE(v.at("rpc").as_array().empty());
}

TEST_F(SimFleetScan, DiscoverCommandPrintsATable) {
  // Flags and ranges in any order; each --port takes one value.
  auto ran = run_hydra({"discover", "--port", std::to_string(port_), "127.0.0.2", "--rpc-port",
                        std::to_string(port_), "127.0.0.3/32"});
  ASSERT_EQ(ran.status, 0) << ran.out;
  EXPECT_NE(ran.out.find(fmt::format("http://127.0.0.2:{}", port_)), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find(fmt::format("http://127.0.0.3:{}", port_)), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("rpc-server endpoints"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("scanned 2 addresses"), std::string::npos) << ran.out;
}

TEST(DiscoverCommand, NothingFoundIsNotAnError) {
  auto port = free_port();
  auto ran = run_hydra({"discover", "127.0.0.1/32", "--port", std::to_string(port)});
  EXPECT_EQ(ran.status, 0) << ran.out;
  EXPECT_NE(ran.out.find("no Ollama nodes found"), std::string::npos) << ran.out;
}

TEST(DiscoverCommand, BadArgumentsExitWith2) {
  EXPECT_EQ(run_hydra({"discover", "127.0.0.0/8"}).status, 2);  // too wide: nothing contacted
  EXPECT_EQ(run_hydra({"discover", "not-a-range"}).status, 2);
  EXPECT_EQ(run_hydra({"discover", "127.0.0.1", "--port", "abc"}).status, 2);
  EXPECT_EQ(run_hydra({"discover", "127.0.0.1", "--port", "70000"}).status, 2);
  EXPECT_EQ(run_hydra({"discover", "127.0.0.1", "--timeout-ms", "0"}).status, 2);
  EXPECT_EQ(run_hydra({"discover", "127.0.0.1", "--bogus"}).status, 2);
}
