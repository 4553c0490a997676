#include "api/fanout.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>

namespace hydra::api {

namespace asio = boost::asio;

namespace {
http::awaitable<http::FetchResult> ask(Gateway& gw, const cluster::NodeView* node, http::bhttp::verb method,
                                       std::string target, std::string body, std::chrono::milliseconds timeout) {
  co_return co_await http::fetch(gw.pool(), cluster::peer_of(*node), node->host_header, method, target, std::move(body),
                                 timeout);
}
}  // namespace

http::awaitable<std::vector<NodeReply>> fan_out(Gateway& gw, std::vector<const cluster::NodeView*> nodes,
                                                http::bhttp::verb method, std::string target,
                                                std::string body, std::chrono::milliseconds timeout) {
  std::vector<NodeReply> out;
  if (nodes.empty()) co_return out;
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, ask(gw, nodes[0], method, target, body, timeout), asio::deferred));
  std::vector<Op> ops;
  for (const auto* node : nodes) ops.push_back(asio::co_spawn(ex, ask(gw, node, method, target, body, timeout), asio::deferred));
  auto [order, errors, results] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                       .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    http::FetchResult r = errors[i] ? http::FetchResult{make_error_code(boost::system::errc::io_error), 0, {}}
                                    : std::move(results[i]);
    out.push_back({nodes[i], std::move(r)});
  }
  co_return out;
}

}  // namespace hydra::api
