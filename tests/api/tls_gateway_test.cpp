// The gateway over HTTPS, as processes: curl and `openssl s_client` against
// `hydra serve --tls-cert`, the gateway relaying to HTTPS `hydra sim` nodes verified with
// tls.node_ca, a node whose certificate comes from an unknown CA, a certificate renewed by
// SIGHUP while a stream is in flight, and `hydra agent` registering with an HTTPS gateway.
// Certificates are made for each run by support/certs (the `openssl` command).
#include "support/certs.hpp"
#include "support/fleet.hpp"

#include <boost/json.hpp>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>

using namespace hydra::test;
using namespace std::chrono;
namespace json = boost::json;

namespace {

TestCerts& certs() {
  static TestCerts c;
  return c;
}

// curl against the gateway's URL, trusting the test CA only.
CommandResult curl(const Fleet& f, const std::string& target, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{curl_binary(), "-sS", "--max-time", "20", "--cacert", certs().ca()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(f.gateway_url() + target);
  return run_command(argv, seconds(30));
}

// What `openssl s_client` sees on a new connection: the certificate's subject line, the
// protocol and the ALPN outcome, among the rest of its report.
CommandResult s_client(const Endpoint& ep) {
  return run_command({openssl_binary(), "s_client", "-connect", fmt::format("127.0.0.1:{}", ep.port()), "-servername",
                      "localhost", "-alpn", "h2,http/1.1", "-CAfile", certs().ca(), "-verify_return_error"},
                     seconds(15));
}

// The node as GET /nodes shows it (over plain HTTP), or null.
json::value listed(const Fleet& f, const std::string& id) {
  auto r = get(f.gateway(), "/nodes");
  if (r.status != 200) return nullptr;
  json::value doc = json::parse(r.body);
  for (auto& n : doc.at("nodes").as_array())
    if (n.at("id").as_string() == id) return n;
  return nullptr;
}

std::size_t lines_in(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

const std::vector<std::string> kSimArgs = {"--model", "m:7b=1", "--load-seconds", "0", "--tokens-per-second", "400"};

std::vector<std::string> with_tls(std::vector<std::string> args, const CertFiles& files) {
  args.insert(args.end(), {"--tls-cert", files.cert, "--tls-key", files.key});
  return args;
}

}  // namespace

TEST(TlsGateway, CurlOverHttpsToAGatewayThatRelaysToAnHttpsNode) {
  Fleet f;
  auto node = certs().server("node-a", 10);
  auto gw = certs().server("gateway-a", 11);
  auto& sim = f.add_sim("a", with_tls(kSimArgs, node));
  ASSERT_EQ(sim.scheme, "https");
  // tls.node_ca from the environment; the certificate from the flags.
  f.start_gateway({"HYDRA_TLS_NODE_CA=" + certs().ca()}, {"--tls-cert", gw.cert, "--tls-key", gw.key});
  ASSERT_EQ(f.gateway_url().substr(0, 8), "https://") << f.gateway_url();

  auto health = curl(f, "/health");
  ASSERT_EQ(health.exit, 0) << health.err << f.gateway_log();
  EXPECT_NE(health.out.find("\"status\""), std::string::npos) << health.out;

  auto chat = curl(f, "/api/chat", {"-N", "-d", R"({"model":"m:7b","messages":[{"role":"user","content":"hi"}]})"});
  ASSERT_EQ(chat.exit, 0) << chat.err;
  EXPECT_GT(lines_in(chat.out), 3u) << chat.out;  // streamed: one line per token
  EXPECT_NE(chat.out.find("\"done\":true"), std::string::npos) << chat.out;
  EXPECT_EQ(chat.out.find("error"), std::string::npos) << chat.out;

  // The node is listed with its scheme.
  auto nodes = curl(f, "/nodes");
  EXPECT_NE(nodes.out.find("\"url\":\"https://" + sim.id + "\""), std::string::npos) << nodes.out;

  // ALPN: the gateway picks HTTP/1.1 from what curl (and s_client) offer.
  auto verbose = curl(f, "/api/version", {"-v"});
  EXPECT_EQ(verbose.exit, 0) << verbose.err;
  EXPECT_NE(verbose.err.find("ALPN: server accepted http/1.1"), std::string::npos) << verbose.err;
  auto shown = s_client(f.gateway());
  EXPECT_NE(shown.out.find("ALPN protocol: http/1.1"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("Verify return code: 0 (ok)"), std::string::npos) << shown.out;

  // The client sub-commands speak HTTPS too, trusting HYDRA_GATEWAY_CA.
  ::setenv("HYDRA_GATEWAY_CA", certs().ca().c_str(), 1);
  auto cli = run_command({hydra_binary(), "nodes", "--gateway", f.gateway_url(), "--json"});
  ::unsetenv("HYDRA_GATEWAY_CA");
  EXPECT_EQ(cli.exit, 0) << cli.err;
  EXPECT_NE(cli.out.find(sim.id), std::string::npos) << cli.out;
  auto untrusting = run_command({hydra_binary(), "nodes", "--gateway", f.gateway_url()});  // the system's CAs only
  EXPECT_NE(untrusting.exit, 0);
  EXPECT_NE(untrusting.err.find("TLS: certificate verify failed for 127.0.0.1"), std::string::npos) << untrusting.err;

  // The dashboard's port is HTTPS too.
  ASSERT_EQ(f.dashboard_url().substr(0, 8), "https://") << f.dashboard_url();
  auto page = run_command({curl_binary(), "-sS", "--max-time", "10", "--cacert", certs().ca(), f.dashboard_url() + "/"});
  EXPECT_EQ(page.exit, 0) << page.err;
  EXPECT_NE(page.out.find("<html"), std::string::npos);
}

TEST(TlsGateway, PlainHttpToTheHttpsPortFailsAndServingGoesOn) {
  Fleet f;
  auto gw = certs().server("gateway-b", 12);
  f.add_sim("a", kSimArgs);
  f.start_gateway({}, {"--tls-cert", gw.cert, "--tls-key", gw.key});
  auto plain = get(f.gateway(), "/health");  // the test's own plain HTTP client
  EXPECT_EQ(plain.status, 0);
  auto curl_plain = run_command({curl_binary(), "-sS", "--max-time", "10",
                                 fmt::format("http://127.0.0.1:{}/health", f.gateway().port())});
  EXPECT_NE(curl_plain.exit, 0);
  // An unknown CA at the client: curl refuses, the gateway carries on.
  auto untrusted = run_command({curl_binary(), "-sS", "--max-time", "10", "--cacert", certs().unknown_ca(),
                                f.gateway_url() + "/health"});
  EXPECT_NE(untrusted.exit, 0);
  auto ok = curl(f, "/api/generate", {"-d", R"({"model":"m:7b","prompt":"x","stream":false})"});
  EXPECT_EQ(ok.exit, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"done\":true"), std::string::npos) << ok.out << f.gateway_log();
}

TEST(TlsGateway, NodeWithACertificateFromAnUnknownCaIsRefusedWithAClearError) {
  Fleet f;
  auto good = certs().server("node-good", 20);
  auto bad = certs().server("node-bad", 21, /*by_unknown_ca=*/true);
  f.add_sim("good", with_tls(kSimArgs, good));
  f.add_sim("bad", with_tls(kSimArgs, bad));
  const SimProcess& good_sim = f.sim(0);  // (taken now: add_sim's reference dangles once another is added)
  const SimProcess& bad_sim = f.sim(1);
  f.start_gateway({}, {"--tls-node-ca", certs().ca()});  // a plain HTTP gateway, HTTPS nodes
  const std::string why = "TLS: certificate verify failed for 127.0.0.1";
  ASSERT_TRUE(wait_for([&] {
    auto n = listed(f, bad_sim.id);
    return n.is_object() && std::string(n.at("last_error").as_string()).find(why) != std::string::npos;
  }, seconds(10))) << json::serialize(listed(f, bad_sim.id)) << f.gateway_log();
  EXPECT_NE(listed(f, bad_sim.id).at("health"), "healthy");
  EXPECT_EQ(listed(f, good_sim.id).at("health"), "healthy") << json::serialize(listed(f, good_sim.id));
  EXPECT_EQ(listed(f, good_sim.id).at("url").as_string(), good_sim.url());

  // Requests go to the node that can be verified, whatever happens to the other.
  for (int i = 0; i < 4; ++i) {
    HttpCall c;
    c.method = "POST";
    c.target = "/api/generate";
    c.body = fmt::format(R"({{"model":"m:7b","prompt":"q{}","stream":false}})", i);
    auto r = request(f.gateway(), c);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-hydra-node"], good_sim.id);
  }

  // `hydra diag` says the same, with what to do about it.
  auto diag = run_command({hydra_binary(), "diag", bad_sim.url(), "--tls-node-ca", certs().ca(), "--timeout-ms", "3000"});
  EXPECT_EQ(diag.exit, 1) << diag.out << diag.err;
  EXPECT_NE(diag.out.find(why), std::string::npos) << diag.out;
  EXPECT_NE(diag.out.find("tls.node_ca"), std::string::npos) << diag.out;
  auto fine = run_command({hydra_binary(), "diag", good_sim.url(), "--tls-node-ca", certs().ca(), "--timeout-ms", "3000"});
  EXPECT_EQ(fine.exit, 0) << fine.out << fine.err;
  EXPECT_NE(fine.out.find("certificate verified"), std::string::npos) << fine.out;
  auto wrong_scheme = run_command({hydra_binary(), "diag", "http://" + good_sim.id, "--timeout-ms", "3000"});
  EXPECT_EQ(wrong_scheme.exit, 1) << wrong_scheme.out;
  EXPECT_NE(wrong_scheme.out.find("use an https:// URL"), std::string::npos) << wrong_scheme.out;
}

TEST(TlsGateway, SighupRenewsTheCertificateWithoutDroppingAStreamInFlight) {
  Fleet f;
  auto gw = certs().server("gateway-c", 30, false, "gateway-c-1");
  // Slow tokens: the stream lasts seconds, across the reload.
  f.add_sim("a", {"--model", "m:7b=1", "--load-seconds", "0", "--tokens-per-second", "5"});
  f.start_gateway({}, {"--tls-cert", gw.cert, "--tls-key", gw.key});
  auto before = s_client(f.gateway());
  ASSERT_NE(before.out.find("CN = gateway-c-1"), std::string::npos) << before.out << before.err;

  Process stream({curl_binary(), "-sSN", "--max-time", "60", "--cacert", certs().ca(), f.gateway_url() + "/api/generate",
                  "-d", R"({"model":"m:7b","prompt":"a long story"})"});
  ASSERT_TRUE(stream.wait_for_line([](const std::string& l) { return l.find("\"done\":false") != std::string::npos; },
                                   seconds(10)))
      << f.gateway_log();

  certs().server("gateway-c", 31, false, "gateway-c-2");  // renewed in place
  ::kill(f.gateway_pid(), SIGHUP);
  ASSERT_TRUE(wait_for([&] { return f.gateway_log().find("certificate and key reloaded") != std::string::npos; },
                       seconds(10)))
      << f.gateway_log();
  auto after = s_client(f.gateway());
  EXPECT_NE(after.out.find("CN = gateway-c-2"), std::string::npos) << after.out << after.err;

  // The stream that began with the old certificate runs to its end.
  auto last = stream.wait_for_line([](const std::string& l) { return l.find("\"done\":true") != std::string::npos; },
                                   seconds(30));
  EXPECT_TRUE(last) << f.gateway_log();
  EXPECT_EQ(stream.wait_exit(seconds(10)), 0);

  // A broken certificate file: the reload fails loudly and the current certificate stays.
  {
    std::ofstream broken(gw.cert);
    broken << "not a certificate\n";
  }
  ::kill(f.gateway_pid(), SIGHUP);
  ASSERT_TRUE(wait_for([&] { return f.gateway_log().find("TLS: reload failed") != std::string::npos; }, seconds(10)))
      << f.gateway_log();
  auto kept = s_client(f.gateway());
  EXPECT_NE(kept.out.find("CN = gateway-c-2"), std::string::npos) << kept.out << kept.err;
  EXPECT_EQ(curl(f, "/health").exit, 0);
}

TEST(TlsGateway, AgentRegistersWithAnHttpsGatewayAndServesHttps) {
  Fleet f;
  auto node = certs().server("node-d", 40);
  auto gw = certs().server("gateway-d", 41);
  f.add_sim("static", with_tls(kSimArgs, node));
  f.start_gateway({"HYDRA_DISCOVERY_GRACE=30"}, {"--tls-cert", gw.cert, "--tls-key", gw.key, "--tls-node-ca", certs().ca()});
  auto& joiner = f.add_sim("joiner", with_tls({"--model", "only-here:1b=1", "--load-seconds", "0"}, node));

  const std::string fixtures = HYDRA_AGENT_FIXTURES;
  Process agent({hydra_binary(), "agent", "--listen", "127.0.0.1:0", "--proc-root", fixtures + "/proc", "--sysfs-root",
                 fixtures + "/sysfs-amd", "--nvml-library", "libhydra-test-no-such-nvml.so.1", "--interval-ms", "100",
                 "--heartbeat-ms", "200", "--register", f.gateway_url(), "--gateway-ca", certs().ca(), "--node-url",
                 joiner.url(), "--tls-cert", node.cert, "--tls-key", node.key});
  auto line = agent.wait_for_line([](const std::string& l) { return l.find("agent listening on") != std::string::npos; },
                                  seconds(10));
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("https://"), std::string::npos) << *line;
  ASSERT_TRUE(wait_for([&] {
    auto r = curl(f, "/nodes");
    return r.out.find("\"url\":\"https://" + joiner.id + "\"") != std::string::npos;
  }, seconds(15))) << f.gateway_log();
  // The agent's own endpoint answers over HTTPS.
  auto reading = run_command({curl_binary(), "-sS", "--max-time", "10", "--cacert", certs().ca(),
                              fmt::format("https://127.0.0.1:{}/hydra/agent", endpoint_from_url(*line).port())});
  EXPECT_EQ(reading.exit, 0) << reading.err;
  EXPECT_NE(reading.out.find("\"ram\""), std::string::npos) << reading.out;
  // And the node it announced serves requests through the gateway.
  auto served = curl(f, "/api/generate", {"-i", "-d", R"({"model":"only-here:1b","prompt":"x","stream":false})"});
  EXPECT_EQ(served.exit, 0) << served.err;
  EXPECT_NE(served.out.find("X-Hydra-Node: " + joiner.id), std::string::npos) << served.out << f.gateway_log();
}
