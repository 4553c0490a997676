#include "sim/model_use.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace hydra::sim {

ModelUse::~ModelUse() {
  if (!*alive_) return;
  if (model_held) node_.residency().release(model_, keep_alive_);
  node_.slots().release();
  node_.changed().notify_all();
}

http::awaitable<UseOutcome> use_model(Node& node, const ModelSpec& spec, KeepAlive keep_alive) {
  // Raced against the client leaving (use_model_for), the losing side is cancelled: it then
  // stops waiting, without exceptions.
  co_await http::asio::this_coro::throw_if_cancelled(false);
  UseOutcome out;
  if (!co_await node.slots().acquire()) {
    out.status = http::bhttp::status::service_unavailable;
    if (co_await cancelled()) co_return out;
    ++node.stats().rejected;
    out.error = "server busy, please try again.  maximum pending requests exceeded";
    co_return out;
  }
  auto use = std::make_unique<ModelUse>(node, spec.name, keep_alive);
  const auto started = node.clock().now();
  // Memory held by busy models frees up as they finish; wait for that, within reason.
  const auto give_up = started + std::chrono::minutes(10);
  Acquire acquired;
  for (;;) {
    acquired = node.residency().acquire(spec);
    if (acquired.kind != Acquire::Kind::must_wait) break;
    if (node.clock().now() >= give_up) {
      out.status = http::bhttp::status::service_unavailable;
      out.error = "server busy, please try again.  maximum pending requests exceeded";
      co_return out;
    }
    co_await node.changed().wait(std::chrono::milliseconds(250));
    if (co_await cancelled()) {
      out.status = http::bhttp::status::service_unavailable;
      co_return out;
    }
  }
  if (acquired.kind == Acquire::Kind::no_memory) {
    out.status = http::bhttp::status::internal_server_error;
    out.error = acquired.error;
    co_return out;
  }
  use->model_held = true;
  if (acquired.kind == Acquire::Kind::loading) {
    auto remaining = acquired.ready_at - node.clock().now();
    if (remaining > Nanos(0)) {
      http::asio::steady_timer timer(co_await http::asio::this_coro::executor);
      timer.expires_after(remaining);
      co_await timer.async_wait(http::use_nothrow);
    }
  }
  use->load_duration = node.clock().now() - started;
  out.use = std::move(use);
  co_return out;
}

http::awaitable<std::optional<UseOutcome>> use_model_for(Node& node, const ModelSpec& spec, KeepAlive keep_alive,
                                                         http::Exchange& ex) {
  using namespace boost::asio::experimental::awaitable_operators;
  // With a slot free now nothing queues, so the common case needs no race.
  if (node.slots().free()) {
    UseOutcome direct = co_await use_model(node, spec, keep_alive);
    co_return std::move(direct);
  }
  auto raced = co_await (use_model(node, spec, keep_alive) || ex.wait_closed());
  if (raced.index() == 1) co_return std::nullopt;
  co_return std::move(std::get<0>(raced));
}

}  // namespace hydra::sim
