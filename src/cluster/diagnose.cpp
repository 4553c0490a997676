#include "cluster/diagnose.hpp"

#include "cluster/scanner.hpp"
#include "http/client.hpp"
#include "http/tls.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/error.hpp>
#include <cmath>
#include <fmt/format.h>

namespace hydra::cluster {

namespace asio = boost::asio;
using http::tcp;
using Level = Check::Level;

const char* to_string(Level level) {
  switch (level) {
    case Level::ok: return "ok";
    case Level::warn: return "warn";
    case Level::fail: return "fail";
  }
  return "?";
}

bool Diagnosis::ok() const {
  for (const auto& c : checks)
    if (c.level == Level::fail) return false;
  return true;
}

Check explain_unreachable(const NodeUrl& node, const boost::system::error_code& ec, std::chrono::milliseconds timeout) {
  Check c{"connect", Level::fail, ec.message(), {}};
  const bool loopback = node.host == "127.0.0.1" || node.host == "localhost" || node.host == "::1";
  if (ec.category() == http::tls_verify_category()) {
    c.step = "tls";
    c.detail = http::error_text(ec, node.host);
    switch (http::certificate_problem(ec)) {
      case http::CertificateProblem::wrong_name:
        c.advice = "the certificate is for another name: have it issued for " + node.host +
                   " (subjectAltName), or use a name it carries in the node's URL";
        break;
      case http::CertificateProblem::expired:
        c.advice = "the certificate is outside its validity period: renew it (or check the clocks of both machines)";
        break;
      default:
        c.advice = "the certificate is not trusted here: give the CA that signed it with tls.node_ca (or "
                   "--tls-node-ca), or add that CA to this machine's CA store";
    }
  } else if (http::is_tls_error(ec)) {
    c.step = "tls";
    c.detail = http::error_text(ec, node.host);
    c.advice = node.tls ? "does the node (or its proxy) speak HTTPS on port " + std::to_string(node.port) +
                              "? If it speaks plain HTTP, use an http:// URL"
                        : "check the node's TLS set-up";
  } else if (ec == asio::error::connection_refused) {
    c.detail = fmt::format("connection refused on {}", node.id());
    c.advice = loopback
        ? "nothing listens there: start Ollama (`ollama serve`) on this machine"
        : "nothing listens there: start `ollama serve` on that machine. Ollama listens only on 127.0.0.1 "
          "unless told otherwise: set OLLAMA_HOST=0.0.0.0:11434 in its environment and restart it";
  } else if (ec == asio::error::timed_out || ec == boost::beast::error::timeout) {
    c.detail = fmt::format("no answer from {} within {} ms", node.id(), timeout.count());
    c.advice = "the address is wrong or unreachable, or a firewall drops the port: check the address, and "
               "allow TCP port " + std::to_string(node.port) + " on that machine (e.g. `ufw allow " +
               std::to_string(node.port) + "/tcp`); a hung machine looks the same";
  } else if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable) {
    c.detail = fmt::format("{} is unreachable ({})", node.host, ec.message());
    c.advice = "no route to that address from here: check the address and this machine's network";
  } else if (ec == asio::error::connection_reset || ec == asio::error::eof ||
             ec == boost::beast::http::error::end_of_stream) {
    c.detail = fmt::format("{} closed the connection ({})", node.id(), ec.message());
    c.advice = node.tls ? "something listens there but hung up on an HTTPS request: is it really Ollama's port?"
                        : "something listens there but hung up on an HTTP request: is it really Ollama's port? "
                          "If it serves HTTPS, use an https:// URL";
  } else {
    c.advice = "check that the address and port are those of a running Ollama";
  }
  return c;
}

namespace {

std::string gib(uint64_t bytes) { return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1u << 30)); }

// Where a loaded model runs, as `ollama ps` tells it: on the GPU, on the CPU, or split.
std::string placement(const ResidentEntry& r) {
  if (r.size_vram == 0) return fmt::format("{} (CPU, {} in RAM)", r.name, gib(r.size));
  if (r.size_vram >= r.size) return fmt::format("{} (GPU, {} in VRAM)", r.name, gib(r.size_vram));
  const auto gpu = static_cast<int>(std::lround(100.0 * static_cast<double>(r.size_vram) / static_cast<double>(r.size)));
  return fmt::format("{} ({}% GPU, {}% CPU; {} in VRAM)", r.name, gpu, 100 - gpu, gib(r.size_vram));
}

std::string joined_names(const std::vector<std::string>& names, std::size_t most = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < most; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > most) out += fmt::format(" and {} more", names.size() - most);
  return out;
}

// Not Ollama: say what it is, if we can tell.
http::awaitable<Check> not_ollama(http::ConnectionPool& pool, http::Peer ep, std::string host,
                                  http::FetchResult version, std::chrono::milliseconds timeout) {
  Check c{"ollama", Level::fail, {}, {}};
  auto health = co_await http::fetch(pool, ep, host, http::bhttp::verb::get, "/health", "", timeout);
  if (!health.ec && looks_like_llama_health(health.status, health.body)) {
    c.detail = "this is a llama.cpp server (llama-server), not Ollama";
    c.advice = "point Hydra at the Ollama port of that machine (11434 by default); llama-server speaks another API";
    co_return c;
  }
  c.detail = version.status == 200 ? "GET /api/version answered 200 without a version: not Ollama"
                                   : fmt::format("GET /api/version answered HTTP {}: not Ollama", version.status);
  c.advice = "another program has this port: check the port Ollama listens on (OLLAMA_HOST on that machine)";
  co_return c;
}

}  // namespace

http::awaitable<Diagnosis> diagnose(http::asio::any_io_executor executor, NodeUrl node, uint16_t default_agent_port,
                                    std::chrono::milliseconds timeout, std::shared_ptr<http::ssl::context> tls) {
  Diagnosis d;
  d.url = node.url();
  const auto get = http::bhttp::verb::get;

  // 1. The address.
  tcp::resolver resolver(executor);
  auto [rec, found] = co_await resolver.async_resolve(node.host, std::to_string(node.port), http::use_nothrow);
  if (rec || found.empty()) {
    d.checks.push_back({"address", Level::fail, fmt::format("cannot resolve {}: {}", node.host, rec.message()),
                        "check the host name, or give the node's IP address instead"});
    co_return d;
  }
  const http::Peer ep(found.begin()->endpoint(), node.tls, node.host);
  d.checks.push_back({"address", Level::ok, ep.endpoint.address().to_string(), {}});

  // 2. The port (and TLS), and 3. Ollama on it.
  http::ConnectionPool pool(executor, 1);
  if (tls) pool.set_tls(std::move(tls));
  const std::string host = node.id();
  const auto t0 = std::chrono::steady_clock::now();
  auto version = co_await http::fetch(pool, ep, host, get, "/api/version", "", timeout);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (version.ec) {
    d.checks.push_back(explain_unreachable(node, version.ec, timeout));
    co_return d;
  }
  d.checks.push_back({"connect", Level::ok, fmt::format("answers {} ({:.1f} ms)", node.tls ? "HTTPS, certificate verified" : "HTTP", ms), {}});
  if (version.status == 200 && names_hydra(version.body)) {
    d.checks.push_back({"ollama", Level::fail, "this is a Hydra gateway, not an Ollama node",
                        "point Hydra at the Ollama nodes behind that gateway (`hydra nodes` there lists them): a "
                        "gateway is not routed through"});
    co_return d;
  }
  auto parsed = version.status == 200 ? parse_version(version.body) : std::nullopt;
  if (!parsed) {
    Check what = co_await not_ollama(pool, ep, host, std::move(version), timeout);
    d.checks.push_back(std::move(what));
    co_return d;
  }
  d.checks.push_back({"ollama", Level::ok, "Ollama " + *parsed, {}});

  // 4. Models on disk.
  auto tags = co_await http::fetch(pool, ep, host, get, "/api/tags", "", timeout);
  auto models = !tags.ec && tags.status == 200 ? parse_tags(tags.body) : std::nullopt;
  if (!models) {
    d.checks.push_back({"models", Level::fail,
                        tags.ec ? "GET /api/tags: " + tags.ec.message() : fmt::format("GET /api/tags answered HTTP {}", tags.status),
                        "Ollama did not list its models: look at that node's Ollama log"});
    co_return d;
  }
  std::vector<std::string> names;
  for (const auto& m : *models) names.push_back(m.name);
  if (names.empty()) {
    d.checks.push_back({"models", Level::warn, "no models on disk",
                        "nothing to route to it yet: `ollama pull llama3.2` (or any model) on that machine"});
  } else {
    d.checks.push_back({"models", Level::ok, fmt::format("{} on disk: {}", names.size(), joined_names(names)), {}});
  }

  // 5. Loaded models.
  auto ps = co_await http::fetch(pool, ep, host, get, "/api/ps", "", timeout);
  auto resident = !ps.ec && ps.status == 200 ? parse_ps(ps.body) : std::nullopt;
  if (!resident) {
    d.checks.push_back({"loaded", Level::warn, "GET /api/ps did not answer with a model list",
                        "an old Ollama? Hydra then cannot see which models are loaded there"});
  } else {
    std::vector<std::string> loaded;
    for (const auto& r : *resident)
      loaded.push_back(placement(r));
    d.checks.push_back({"loaded", Level::ok, loaded.empty() ? "none loaded now" : joined_names(loaded), {}});
  }

  // 6. The node's agent (its memory, reported).
  const uint16_t agent_port = node.agent_port ? node.agent_port : default_agent_port;
  http::Peer agent_ep = ep;
  agent_ep.endpoint.port(agent_port);
  auto agent = co_await http::fetch(pool, agent_ep, fmt::format("{}:{}", node.host, agent_port), get, "/hydra/agent", "",
                                    timeout);
  auto reading = !agent.ec && agent.status == 200 ? parse_agent(agent.body) : std::nullopt;
  if (!reading) {
    d.checks.push_back({"agent", Level::warn, fmt::format("no `hydra agent` answers on port {}", agent_port),
                        "Hydra estimates this node's free VRAM from its loaded models; run `hydra agent` there "
                        "for exact figures, or give them with --node 'URL#vram=GB,ram=GB'"});
  } else if (reading->vram_total == 0) {
    d.checks.push_back({"agent", Level::ok, fmt::format("no GPU; {} of {} RAM free", gib(reading->ram_free), gib(reading->ram_total)), {}});
  } else {
    d.checks.push_back({"agent", Level::ok, fmt::format("{} of {} VRAM free", gib(reading->vram_free), gib(reading->vram_total)), {}});
  }
  co_return d;
}

}  // namespace hydra::cluster
