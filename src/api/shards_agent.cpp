// Sharded models: what Shards asks of the coordinator's `hydra agent` (start, list, stop a
// llama-server; a GGUF file's size), the wait for a started coordinator's /health, and the
// plan's split per device. The lifecycle that uses them is in shards.cpp.
#include "api/shards.hpp"

#include "common/percent.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace hydra::api {

namespace json = boost::json;
namespace asio = boost::asio;
using http::awaitable;
using http::bhttp::verb;
using Clock = std::chrono::steady_clock;

// An agent's refusal: its {"error": "..."} message, with the status.
std::string agent_error_text(int status, const std::string& body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::value* e = !ec && doc.is_object() ? doc.get_object().if_contains("error") : nullptr;
  if (e && e->is_string()) return fmt::format("{} (status {})", std::string_view(e->get_string()), status);
  return fmt::format("status {} {}", status, body.substr(0, 300));
}

// (g++ 12: every argument of a coroutine call is a named local here; temporaries built in a
// co_await expression have been freed twice.)
awaitable<http::FetchResult> Shards::agent(const State& s, verb method, std::string target, std::string body,
                                          std::chrono::milliseconds timeout) {
  http::Peer peer = s.agent;
  std::string host = s.agent_host;
  std::string authorization = token_.empty() ? std::string() : "Bearer " + token_;
  http::FetchResult r = co_await http::fetch(gw_.pool(), peer, host, method, target, body, timeout, authorization);
  co_return r;
}

std::vector<double> Shards::per_device(const routing::ShardPlan& plan) const {
  // llama-server splits by device (an rpc-server may lend several, listed first in the order
  // given), so each server's share goes to its devices by their free memory.
  std::vector<double> out;
  for (std::size_t i = 0; i < plan.servers.size() && i < plan.split.size(); ++i) {
    const cluster::RpcServerView* server = nullptr;
    for (const auto& r : rpc_.servers())
      if (r.endpoint == plan.servers[i]) server = &r;
    const uint64_t free = server ? server->free_bytes() : 0;
    if (!server || server->devices.size() <= 1 || free == 0) {
      out.push_back(plan.split[i]);
      continue;
    }
    for (const auto& d : server->devices)
      out.push_back(plan.split[i] * static_cast<double>(d.free) / static_cast<double>(free));
  }
  for (std::size_t i = plan.servers.size(); i < plan.split.size(); ++i) out.push_back(plan.split[i]);  // the coordinator's own
  return out;
}

awaitable<uint64_t> Shards::model_bytes(State& s) {
  if (s.cfg.size_gb > 0) co_return static_cast<uint64_t>(s.cfg.size_gb * 1e9);
  const std::string target = "/hydra/agent/gguf?path=" + percent_encode(s.cfg.gguf);
  const std::string none;
  auto r = co_await agent(s, verb::get, target, none, std::chrono::seconds(5));
  boost::system::error_code ec;
  json::value doc = r.ec || r.status != 200 ? json::value() : json::parse(r.body, ec);
  const json::value* size = !ec && doc.is_object() ? doc.get_object().if_contains("size_bytes") : nullptr;
  if (!size || !size->is_number()) {
    if (r.ec)
      s.reason = fmt::format("the agent at {} did not answer ({})", s.cfg.coordinator, r.ec.message());
    else if (r.status == 404)  // an agent without the endpoint
      s.reason = fmt::format("the agent at {} cannot read GGUF sizes; set size_gb", s.cfg.coordinator);
    else
      s.reason = fmt::format("the agent at {} cannot read {}: {}", s.cfg.coordinator, s.cfg.gguf,
                             agent_error_text(r.status, r.body));
    co_return 0;
  }
  co_return size->to_number<uint64_t>();
}

awaitable<bool> Shards::wait_ready(const State& s, cluster::NodeUrl url, std::string agent_id, std::string& error) {
  // Its /health says 503 while it loads: asked here, so the fleet's probes see it only ready.
  boost::system::error_code aec;
  const auto address = asio::ip::make_address(url.host, aec);
  if (aec) {
    error = "the agent gave an address that is not an IP: " + url.host;
    co_return false;
  }
  const http::Peer peer(http::tcp::endpoint(address, url.port));
  const std::string host = url.id(), target = "/health", none;
  const auto deadline = Clock::now() + s.cfg.start_timeout;
  asio::steady_timer pause(gw_.control);
  for (int round = 0; Clock::now() < deadline && round < 10'000'000; ++round) {
    auto h = co_await http::fetch(gw_.pool(), peer, host, verb::get, target, none, std::chrono::seconds(2));
    if (!h.ec && h.status == 200) co_return true;
    if (round % 10 == 9) {  // still running? (llama-server ends at once when an rpc-server is busy or gone)
      Process p = co_await process(s, agent_id);
      if (p.kind == Process::ended) {
        error = fmt::format("llama-server exited with status {} while starting (see the agent's log)", p.status);
        co_return false;
      }
    }
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(http::use_nothrow);
  }
  error = fmt::format("the coordinator at {} did not become ready within start_timeout_s ({} s)", url.url(),
                      std::chrono::duration_cast<std::chrono::seconds>(s.cfg.start_timeout).count());
  co_return false;
}

awaitable<Shards::Process> Shards::process(const State& s, std::string id) {
  const std::string target = "/hydra/agent/llama-server", none;
  auto r = co_await agent(s, verb::get, target, none, std::chrono::seconds(2));
  boost::system::error_code ec;
  json::value doc = r.ec || r.status != 200 ? json::value() : json::parse(r.body, ec);
  const json::value* servers = !ec && doc.is_object() ? doc.get_object().if_contains("servers") : nullptr;
  Process out;
  if (!servers || !servers->is_array()) co_return out;
  out.kind = Process::ended;  // not listed: not running
  for (const auto& e : servers->get_array()) {
    const json::object* o = e.if_object();
    const json::value* eid = o ? o->if_contains("id") : nullptr;
    if (!eid || !eid->is_string() || eid->get_string() != id) continue;
    const json::value* running = o->if_contains("running");
    const json::value* status = o->if_contains("exit_status");
    out.kind = running && running->is_bool() && running->get_bool() ? Process::running : Process::ended;
    out.status = status && status->is_int64() ? static_cast<int>(status->get_int64()) : 0;
  }
  co_return out;
}

}  // namespace hydra::api
