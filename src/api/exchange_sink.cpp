#include "api/exchange_sink.hpp"

#include "common/json.hpp"

#include <boost/json/serialize.hpp>

namespace hydra::api {

namespace bhttp = http::bhttp;
using http::awaitable;

awaitable<void> reply_error(http::Exchange& ex, int status, std::string_view message, int retry_after_s) {
  http::Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  if (retry_after_s > 0) res.set(bhttp::field::retry_after, std::to_string(retry_after_s));
  res.body() = boost::json::serialize(json_field("error", message));
  co_await ex.respond(std::move(res));
}

awaitable<void> ExchangeSink::gone() { co_await ex_.wait_closed(); }

awaitable<bool> ExchangeSink::begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                                    const Served& served) {
  bhttp::fields extra;
  extra.set("X-Hydra-Node", served.node_id);
  extra.set("X-Hydra-Route-Reason", served.reason);
  if (content_type.empty()) content_type = "application/json; charset=utf-8";
  sized_ = length.has_value();
  auto ec = co_await ex_.begin_stream(static_cast<bhttp::status>(status), content_type, &extra, length);
  co_return static_cast<bool>(ec);
}

awaitable<bool> ExchangeSink::data(std::string_view bytes) {
  if (bytes.empty()) co_return false;
  at_line_start_ = bytes.back() == '\n';
  auto ec = co_await ex_.send_chunk(bytes);
  co_return static_cast<bool>(ec);
}

awaitable<void> ExchangeSink::end() { co_await ex_.end_stream(); }

awaitable<void> ExchangeSink::broke(std::string message) {
  if (sized_) {
    ex_.abort();  // the client sees a short body
    co_return;
  }
  std::string line = at_line_start_ ? "" : "\n";
  line += boost::json::serialize(json_field("error", message)) + "\n";
  co_await ex_.send_chunk(line);
  co_await ex_.end_stream();
}

awaitable<void> ExchangeSink::declined(int status, std::string content_type, std::string body) {
  http::Response res{static_cast<bhttp::status>(status), 11};
  if (content_type.empty()) content_type = "application/json; charset=utf-8";
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  co_await ex_.respond(std::move(res));
}

awaitable<void> ExchangeSink::fail(int status, std::string message, int retry_after_s) {
  co_await reply_error(ex_, status, message, retry_after_s);
}

}  // namespace hydra::api
