#include "api/exchange_sink.hpp"

#include "common/json.hpp"

#include <boost/json/serialize.hpp>
#include <utility>

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

awaitable<void> ExchangeSink::gone() { return ex_.wait_closed(); }  // no frame of its own

std::optional<bool> ExchangeSink::begin_now(int status, std::string& content_type, std::optional<std::uint64_t> length,
                                            const Served& served) {
  const ServedFields extra(served);
  if (content_type.empty()) content_type = "application/json; charset=utf-8";
  sized_ = length.has_value();
  lines_ = !sized_ && content_type.find("ndjson") != std::string::npos;
  node_id_ = served.node_id;
  http::error_code ec;
  if (ex_.begin_stream_now(static_cast<bhttp::status>(status), content_type, extra.view(), length, ec))
    return static_cast<bool>(ec);
  return std::nullopt;  // begin() sends the rest
}

awaitable<bool> ExchangeSink::begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                                    const Served& served) {
  // After a begin_now() that left part of the head unsent, only that part.
  if (!ex_.write_pending())
    if (std::optional<bool> now = begin_now(status, content_type, length, served)) co_return *now;
  co_return static_cast<bool>(co_await ex_.send_rest());
}

std::size_t ExchangeSink::long_line_at(std::string_view bytes) {
  std::size_t line = line_;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::size_t nl = bytes.find('\n', pos);
    const std::size_t len = (nl == std::string_view::npos ? bytes.size() : nl) - pos;
    if (line + len > limits_.line_bytes) return pos;
    if (nl == std::string_view::npos) {
      line += len;
      break;
    }
    line = 0;
    pos = nl + 1;
  }
  line_ = line;
  return std::string_view::npos;
}

std::optional<bool> ExchangeSink::data_now(std::string_view bytes) {
  if (bytes.empty()) return false;
  if (!held_.empty()) return std::nullopt;  // data() sends the held bytes first
  if (lines_ && long_line_at(bytes) != std::string_view::npos) return std::nullopt;  // data() says so
  at_line_start_ = bytes.back() == '\n';
  if (std::exchange(ending_, false) && ex_.chunked()) {  // end_now() sends them with the end
    held_.assign(bytes);
    return false;
  }
  http::error_code ec;
  if (ex_.send_chunk_now(bytes, ec)) return static_cast<bool>(ec);
  return std::nullopt;  // data() sends the rest
}

awaitable<bool> ExchangeSink::data(std::string_view bytes) {
  if (!held_.empty()) {  // more came after what was to be the last bytes: those go first
    const std::string held = std::exchange(held_, {});
    if (co_await ex_.send_chunk(held)) co_return true;
  }
  if (!ex_.write_pending())
    if (std::optional<bool> now = data_now(bytes)) co_return *now;
  if (ex_.write_pending()) co_return static_cast<bool>(co_await ex_.send_rest());
  // A line past limits.line_kb: what came before it goes out whole, the rest of it never does.
  if (const std::size_t pos = long_line_at(bytes); pos > 0) {
    at_line_start_ = true;
    if (co_await ex_.send_chunk(bytes.substr(0, pos))) co_return true;
  }
  co_await end_with_error(line_too_long(node_id_, limits_.line_bytes));
  co_return true;
}

awaitable<void> ExchangeSink::end_with_error(std::string message) {
  std::string line = std::exchange(held_, {});  // bytes held for the end go first
  if (!at_line_start_) line += '\n';
  line += boost::json::serialize(json_field("error", message)) + "\n";
  if (!co_await ex_.send_chunk(line)) co_await ex_.end_stream();
}

bool ExchangeSink::end_now() {
  http::error_code ec;
  if (held_.empty()) return ex_.end_stream_now(ec);  // false: end() sends the rest
  if (!ex_.end_stream_now(held_, ec)) return false;  // held_ stays until end() has sent it
  held_.clear();
  return true;
}

awaitable<void> ExchangeSink::end() {
  if (!ex_.write_pending() && end_now()) co_return;
  co_await ex_.send_rest();
  held_.clear();
}

awaitable<void> ExchangeSink::broke(std::string message) {
  if (sized_) {
    ex_.abort();  // the client sees a short body
    co_return;
  }
  co_await end_with_error(std::move(message));
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
