#include "cluster/rpc_watch.hpp"

#include "common/authority.hpp"
#include "common/spawn.hpp"
#include "http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace hydra::cluster {

using State = RpcServerView::State;

RpcWatch::RpcWatch(http::asio::any_io_executor executor, Cluster& cluster, std::chrono::milliseconds interval,
                   std::chrono::milliseconds timeout)
    : executor_(executor), cluster_(cluster), interval_(interval), timeout_(timeout), wake_(executor) {}

std::string RpcWatch::add_configured(const std::string& address) {
  auto authority = parse_authority(address);
  if (!authority || authority->host.empty())
    throw std::runtime_error(fmt::format("rpc-server \"{}\": expected HOST:PORT", address));
  const uint16_t port = authority->port ? *authority->port : 50052;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(authority->host, std::to_string(port), ec);
  if (ec || results.empty())
    throw std::runtime_error(fmt::format("rpc-server \"{}\": cannot resolve {}: {}", address, authority->host, ec.message()));
  const auto ep = results.begin()->endpoint();
  const std::string id = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  if (RpcServerView* known = find(id)) {
    known->discovered = false;
    return id;
  }
  RpcServerView v;
  v.endpoint = id;
  servers_.push_back(std::move(v));
  publish();
  return id;
}

void RpcWatch::set_discovered(const std::vector<std::string>& endpoints) {
  bool changed = false;
  for (std::size_t i = servers_.size(); i-- > 0;) {
    const bool found = std::find(endpoints.begin(), endpoints.end(), servers_[i].endpoint) != endpoints.end();
    if (!found && servers_[i].discovered && servers_[i].in_use_by.empty()) {
      servers_.erase(servers_.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
    }
  }
  for (const auto& e : endpoints) {
    if (find(e)) continue;
    RpcServerView v;
    v.endpoint = e;
    v.discovered = true;
    servers_.push_back(std::move(v));
    changed = true;
  }
  if (changed) {
    publish();
    wake_.cancel();  // probe the new ones now
  }
}

void RpcWatch::start() { boost::asio::co_spawn(executor_, loop(), hydra::logged("rpc-server probes")); }

http::awaitable<void> RpcWatch::loop() {
  for (;;) {
    co_await probe_now();
    wake_.expires_after(interval_);
    co_await wake_.async_wait(http::use_nothrow);
  }
}

http::awaitable<void> RpcWatch::probe_now() {
  if (round_) {  // one round at a time: a caller meanwhile waits for the one under way
    auto running = round_;
    co_await running->async_wait(http::use_nothrow);
    co_return;
  }
  round_ = std::make_shared<http::asio::steady_timer>(executor_, http::asio::steady_timer::time_point::max());
  // By endpoint, not index: the list may change while a probe waits.
  std::vector<std::string> todo;
  for (const auto& s : servers_)
    if (s.in_use_by.empty()) todo.push_back(s.endpoint);
  bool changed = false;
  for (const auto& id : todo) {
    const auto ep = http::parse_endpoint(id);
    if (!ep) continue;
    RpcProbeResult r = co_await probe_rpc_server(*ep, timeout_);
    RpcServerView* s = find(id);
    if (!s || !s->in_use_by.empty()) continue;
    RpcServerView next = *s;
    next.state = r.state;
    next.error = r.error;
    // A connection not accepted in time from a server that answered before: its one-client
    // backlog is full (a llama-server attached, and other gateways' probes waiting), not dead.
    if (r.state == State::down && r.timed_out && (s->state == State::ready || s->state == State::busy)) {
      next.state = State::busy;
      next.error = "no connection within the timeout: attached to another client, with others waiting (or unreachable)";
    }
    if (r.state == State::ready || r.state == State::incompatible) next.version = r.version;
    if (r.state == State::ready) next.devices = std::move(r.devices);
    if (r.state == State::down) next.devices.clear();
    if (next.state != s->state && (next.state == State::down || next.state == State::incompatible))
      spdlog::warn("rpc-server {} is {}: {}", id, to_string(next.state), next.error);
    else if (next.state != s->state && next.state == State::ready)
      spdlog::info("rpc-server {} is ready (ggml-rpc {}, {} device(s), {:.1f} GB free)", id, next.version,
                   next.devices.size(), static_cast<double>(next.free_bytes()) / 1e9);
    if (!(next == *s)) {
      *s = std::move(next);
      changed = true;
    }
  }
  if (changed) publish();
  round_->cancel();
  round_.reset();
}

void RpcWatch::mark_in_use(const std::vector<std::string>& endpoints, const std::string& model) {
  for (const auto& e : endpoints)
    if (RpcServerView* s = find(e)) {
      s->in_use_by = model;
      s->state = State::busy;
      s->error.clear();
    }
  publish();
}

void RpcWatch::release(const std::string& model) {
  bool changed = false;
  for (auto& s : servers_)
    if (s.in_use_by == model) {
      s.in_use_by.clear();
      s.state = State::unknown;  // until the next probe says
      changed = true;
    }
  if (changed) publish();
}

RpcServerView* RpcWatch::find(const std::string& endpoint) {
  for (auto& s : servers_)
    if (s.endpoint == endpoint) return &s;
  return nullptr;
}

void RpcWatch::publish() { cluster_.set_rpc_servers(servers_); }

}  // namespace hydra::cluster
