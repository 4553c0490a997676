#include "api/collect_sink.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;

awaitable<void> CollectSink::gone() {
  http::asio::steady_timer never(co_await http::asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
  co_await never.async_wait(http::use_nothrow);
}

std::string CollectSink::collect(const json::object& chunk) {
  std::string piece;
  if (const json::value* r = chunk.if_contains("response"); r && r->is_string()) piece = r->get_string();
  if (const json::value* m = chunk.if_contains("message"); m && m->is_object())
    if (const json::value* c = m->get_object().if_contains("content"); c && c->is_string()) piece = c->get_string();
  if (!piece.empty()) {
    if (text_.empty())
      first_piece_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - created_).count();
    text_ += piece;
    if (on_piece_) on_piece_(piece);
  }
  if (const json::value* done = chunk.if_contains("done"); done && done->is_bool() && done->get_bool()) final_ = chunk;
  return piece;
}

awaitable<bool> CollectSink::on_object(const json::object& chunk) {
  collect(chunk);
  co_return false;
}

awaitable<void> CollectSink::on_end() {
  complete_ = true;
  co_return;
}

awaitable<void> CollectSink::on_error(int status, std::string message, int retry_after_s, bool) {
  error_status_ = status;
  error_ = std::move(message);
  retry_after_s_ = retry_after_s;
  co_return;
}

}  // namespace hydra::api
