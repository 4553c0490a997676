#include "sim/rpc_links.hpp"

#include "common/spawn.hpp"
#include "http/types.hpp"
#include "sim/rpc_wire.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <optional>
#include <stdexcept>

namespace hydra::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::runtime_error failure(const std::string& address, const std::string& why) {
  return std::runtime_error(fmt::format("rpc-server {}: {}", address, why));
}

tcp::socket connect(asio::io_context& ioc, const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    throw failure(address, "expected HOST:PORT");
  boost::system::error_code ec;
  tcp::resolver resolver(ioc);
  auto found = resolver.resolve(tcp::v4(), address.substr(0, colon), address.substr(colon + 1), ec);
  if (ec) throw failure(address, "cannot resolve: " + ec.message());
  tcp::socket socket(ioc);
  asio::connect(socket, found, ec);
  if (ec) throw failure(address, "cannot connect: " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  return socket;
}

// One command and its reply's payload; nullopt when the peer closed (or broke framing).
std::optional<std::string> exchange(tcp::socket& socket, uint8_t command, std::string_view payload,
                                    uint64_t max_reply = 64) {
  boost::system::error_code ec;
  const std::string out = rpc::request(command, payload);
  asio::write(socket, asio::buffer(out), ec);
  if (ec) return std::nullopt;
  std::string length(8, '\0');
  asio::read(socket, asio::buffer(length), ec);
  if (ec || rpc::get_u64(length) > max_reply) return std::nullopt;
  std::string reply(rpc::get_u64(length), '\0');
  if (!reply.empty()) asio::read(socket, asio::buffer(reply), ec);
  if (ec) return std::nullopt;
  return reply;
}

std::unique_ptr<RpcLink> attach(asio::io_context& ioc, const std::string& address) {
  // The newest HELLO first; a server of the older protocol closes on it, so the older (empty)
  // one follows on a new connection.
  tcp::socket socket = connect(ioc, address);
  auto hello = exchange(socket, rpc::cmd::hello, std::string(rpc::kCapsBytes, '\0'));
  bool with_caps = hello && hello->size() == 4 + rpc::kCapsBytes;
  if (!with_caps) {
    socket = connect(ioc, address);
    hello = exchange(socket, rpc::cmd::hello, {});
    if (!hello) throw failure(address, "closed the connection on HELLO (not an rpc-server, or one without HELLO)");
    if (hello->size() != 3) throw failure(address, fmt::format("answered HELLO with {} bytes", hello->size()));
  }
  auto link = std::make_unique<RpcLink>(RpcLink{address, std::move(socket), 0, 0, 0, false, {}});
  link->with_caps = with_caps;
  link->major = static_cast<unsigned char>((*hello)[0]);
  link->minor = static_cast<unsigned char>((*hello)[1]);
  link->patch = static_cast<unsigned char>((*hello)[2]);
  uint32_t count = 1;
  const bool per_device = with_caps || link->major >= 3;
  if (per_device) {
    auto n = exchange(link->socket, rpc::cmd::device_count, {});
    if (!n || n->size() != 4) throw failure(address, "no answer to DEVICE_COUNT");
    count = rpc::get_u32(*n);
    if (count > 256) throw failure(address, fmt::format("reports {} devices", count));
  }
  for (uint32_t i = 0; i < count; ++i) {
    std::string index;
    if (per_device) rpc::put_u32(index, i);
    auto memory = exchange(link->socket, rpc::cmd::get_device_memory, index);
    if (!memory || memory->size() != 16) throw failure(address, fmt::format("no answer to GET_DEVICE_MEMORY {}", i));
    link->devices.push_back({rpc::get_u64(*memory), rpc::get_u64(std::string_view(*memory).substr(8))});
  }
  return link;
}

// Nothing comes unasked on a held connection: whatever ends this read (the peer closing, a
// reset, stray bytes) means the rpc-server is gone for this process.
http::awaitable<void> watch(RpcLink* link) {
  char byte = 0;
  auto [ec, n] = co_await link->socket.async_read_some(asio::buffer(&byte, 1), http::use_nothrow);
  if (ec == asio::error::operation_aborted) co_return;
  std::fflush(stdout);
  std::fprintf(stderr, "rpc-server %s closed the connection\n", link->address.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace

std::vector<std::unique_ptr<RpcLink>> attach_rpc_servers(asio::io_context& ioc,
                                                         const std::vector<std::string>& addresses) {
  std::vector<std::unique_ptr<RpcLink>> links;
  std::size_t device = 0;  // llama.cpp names remote devices RPC0, RPC1, ... across servers
  for (const auto& address : addresses) {
    links.push_back(attach(ioc, address));
    const RpcLink& l = *links.back();
    for (std::size_t i = 0; i < l.devices.size(); ++i)
      std::fprintf(stderr, "RPC%zu[%s]: protocol %d.%d.%d, %llu MiB free of %llu MiB\n", device++, address.c_str(), l.major,
                   l.minor, l.patch, static_cast<unsigned long long>(l.devices[i].free >> 20),
                   static_cast<unsigned long long>(l.devices[i].total >> 20));
  }
  return links;
}

void watch_rpc_links(const std::vector<std::unique_ptr<RpcLink>>& links) {
  for (const auto& link : links)
    asio::co_spawn(link->socket.get_executor(), watch(link.get()), hydra::logged("an rpc-server link's watch"));
}

}  // namespace hydra::sim
