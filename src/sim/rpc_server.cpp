#include "sim/rpc_server.hpp"

#include "common/spawn.hpp"
#include "http/server.hpp"
#include "sim/rpc_wire.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>

namespace hydra::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct RpcServer::State {
  State(asio::any_io_executor ex, RpcServerConfig c) : config(std::move(c)), acceptor(ex) {}
  RpcServerConfig config;
  tcp::acceptor acceptor;
};

namespace {

// One client, until it closes or breaks a rule (then the socket closes, with no reply).
http::awaitable<void> serve_client(std::shared_ptr<RpcServer::State> state, tcp::socket socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  rpc::ServerSession session(state->config);
  for (;;) {
    unsigned char command = 0;
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(&command, 1), http::use_nothrow);
    if (ec) co_return;
    const auto expected = session.payload_length(command);
    if (!expected) co_return;
    std::string length(8, '\0');
    auto [ec2, n2] = co_await asio::async_read(socket, asio::buffer(length), http::use_nothrow);
    if (ec2 || rpc::get_u64(length) != *expected) co_return;
    std::string payload(*expected, '\0');
    if (!payload.empty()) {
      auto [ec3, n3] = co_await asio::async_read(socket, asio::buffer(payload), http::use_nothrow);
      if (ec3) co_return;
    }
    const auto out = session.answer(command, payload);
    if (!out) co_return;
    auto [ec4, n4] = co_await asio::async_write(socket, asio::buffer(*out), http::use_nothrow);
    if (ec4) co_return;
  }
}

// Accept one, serve it to its end, then accept the next: the real server's loop.
http::awaitable<void> serve_clients(std::shared_ptr<RpcServer::State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(http::use_nothrow);
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
    if (ec) continue;  // a connection reset while queued, say
    co_await serve_client(state, std::move(socket));
  }
}

}  // namespace

RpcServer::RpcServer(asio::any_io_executor executor, RpcServerConfig config)
    : state_(std::make_shared<State>(std::move(executor), std::move(config))) {}

RpcServer::~RpcServer() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

boost::system::result<tcp::endpoint> RpcServer::start() {
  auto ep = http::parse_endpoint(state_->config.listen);
  if (!ep) return ep.error();
  if (!ep->address().is_v4()) return asio::error::address_family_not_supported;  // AF_INET only
  boost::system::error_code ec;
  auto& a = state_->acceptor;
  a.open(ep->protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(*ep, ec);
  if (!ec) a.listen(1, ec);  // backlog 1, as rpc-server
  if (ec) {
    a.close();
    return ec;
  }
  auto bound = a.local_endpoint(ec);
  if (ec) return ec;
  asio::co_spawn(a.get_executor(), serve_clients(state_), hydra::logged("the rpc-server's accept loop"));
  return bound;
}

int run_rpc_server(const RpcServerConfig& config) {
  asio::io_context ioc(1);
  RpcServer server(ioc.get_executor(), config);
  auto bound = server.start();
  if (!bound) {
    fmt::print(stderr, "hydra sim: cannot listen on {}: {}\n", config.listen, bound.error().message());
    return 1;
  }
  fmt::print("rpc-server {} listening on {}:{}\n", config.name, bound->address().to_string(), bound->port());
  std::fflush(stdout);
  fmt::print(stderr, "Starting RPC server v{}.{}.{}\n", config.major, config.minor, config.patch);
  for (std::size_t i = 0; i < config.devices.size(); ++i)
    fmt::print(stderr, "  device {}: total {:.0f} MiB, free {:.0f} MiB\n", i,
               config.devices[i].total_gb * 1e9 / 1048576, config.devices[i].free_gb * 1e9 / 1048576);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::signal(SIGHUP, SIG_IGN);
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
  ioc.run();
  return 0;
}

}  // namespace hydra::sim
