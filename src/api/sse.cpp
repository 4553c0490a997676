#include "api/sse.hpp"

#include "common/json.hpp"

#include <boost/json/serialize.hpp>
#include <optional>

namespace hydra::api {

namespace bhttp = http::bhttp;

std::string sse_event(std::string_view name, const boost::json::object& data) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += boost::json::serialize(data);  // one line: serialize never emits raw newlines
  out += "\n\n";
  return out;
}

http::awaitable<bool> begin_sse(http::Exchange& ex, const Served* served) {
  const http::HeadField no_cache("Cache-Control", "no-cache");
  std::optional<ServedFields> routed;
  const http::HeadFields extra = served ? routed.emplace(*served, no_cache).view() : http::HeadFields(&no_cache, 1);
  auto ec = co_await ex.begin_stream(bhttp::status::ok, "text/event-stream", extra);
  co_return static_cast<bool>(ec);
}

http::awaitable<void> send_sse_error(http::Exchange& ex, int status, std::string message) {
  boost::json::object data = json_field("error", message);
  data["status"] = status;
  ex.settle();
  co_await ex.send_chunk(sse_event("error", data));
  co_await ex.end_stream();
}

void SsePipe::push(std::string_view name, const boost::json::object& data) {
  if (closed_) return;
  if (queue_.size() >= limit_) {
    overflowed_ = true;
    closed_ = true;
  } else {
    queue_.push_back(sse_event(name, data));
  }
  wake_.cancel();
}

void SsePipe::close() {
  closed_ = true;
  wake_.cancel();
}

http::awaitable<void> SsePipe::write_to(http::Exchange& ex) {
  bool client_here = true;
  for (;;) {
    while (!queue_.empty() && !overflowed_) {
      std::string event = std::move(queue_.front());
      queue_.pop_front();
      if (client_here && co_await ex.send_chunk(event)) client_here = false;
    }
    if (closed_ || !client_here) break;
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await wake_.async_wait(http::use_nothrow);
  }
  queue_.clear();
  closed_ = true;  // nobody reads any more: later events are dropped at once
  if (client_here && !overflowed_) co_await ex.end_stream();
  if (overflowed_) ex.abort();
}

}  // namespace hydra::api
