#include "api/collect_sink.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;

awaitable<void> CollectSink::gone() {
  if (gone_) {
    co_await gone_->wait();
    co_return;
  }
  http::asio::steady_timer never(co_await http::asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
  co_await never.async_wait(http::use_nothrow);
}

awaitable<bool> CollectSink::on_object(const json::object& chunk) {
  if (requester_gone()) co_return true;
  std::string piece;
  if (const json::value* r = chunk.if_contains("response"); r && r->is_string()) piece = r->get_string();
  if (const json::value* m = chunk.if_contains("message"); m && m->is_object())
    if (const json::value* c = m->get_object().if_contains("content"); c && c->is_string()) piece = c->get_string();
  if (const json::value* done = chunk.if_contains("done"); done && done->is_bool() && done->get_bool()) final_ = chunk;
  if (piece.empty()) co_return false;
  if (text_.size() + piece.size() > limits().reply_bytes) {
    const std::string node = served() ? served()->node_id : std::string();
    co_return co_await refuse(reply_too_long(node, limits().reply_bytes));
  }
  if (text_.empty())
    first_piece_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - created_).count();
  text_ += piece;
  if (on_piece_) on_piece_(piece);
  co_return co_await on_text(piece);
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
