#include "api/json_sink.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;

std::string ollama_error_message(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object())
    if (const json::value* e = v.get_object().if_contains("error"); e && e->is_string())
      return std::string(e->get_string());
  std::string text(body.substr(0, 500));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "the node gave no reason" : text;
}

awaitable<bool> JsonReplySink::begin(int status, std::string content_type, std::optional<std::uint64_t>,
                                     const Served& served) {
  served_ = served;
  status_ = status;
  stream_ = content_type.find("ndjson") != std::string::npos;
  if (status >= 400) co_return false;  // the body is the node's error: read it whole first
  co_return co_await on_begin(served);
}

awaitable<bool> JsonReplySink::take_line(std::string line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty() || failed_) co_return false;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) {
    failed_ = true;
    co_await on_error(502, "the node sent a reply that is not JSON", 0, true);
    co_return true;
  }
  const json::object& chunk = v.get_object();
  if (const json::value* e = chunk.if_contains("error")) {
    failed_ = true;
    std::string message = e->is_string() ? std::string(e->get_string()) : json::serialize(*e);
    co_await on_error(500, std::move(message), 0, true);
    co_return true;
  }
  co_return co_await on_object(chunk);
}

awaitable<bool> JsonReplySink::data(std::string_view bytes) {
  if (status_ >= 400) {
    if (pending_.size() < (1u << 20)) pending_.append(bytes);
    co_return false;
  }
  if (failed_) co_return true;
  // Only the new bytes are searched for line ends: what is pending holds none.
  std::size_t start = 0;
  std::size_t from = pending_.size();
  pending_.append(bytes);
  for (std::size_t nl; (nl = pending_.find('\n', from)) != std::string::npos; start = from = nl + 1) {
    std::string line = pending_.substr(start, nl - start);
    if (co_await take_line(line)) co_return true;
  }
  pending_.erase(0, start);
  const std::size_t limit = stream_ ? limits_.line_bytes : limits_.reply_bytes;
  if (pending_.size() > limit) {
    pending_.clear();
    const std::string node = served_ ? served_->node_id : std::string();
    std::string message = stream_ ? line_too_long(node, limit) : reply_too_long(node, limit);
    co_return co_await refuse(std::move(message));
  }
  co_return false;
}

awaitable<bool> JsonReplySink::refuse(std::string message) {
  if (failed_) co_return true;
  failed_ = true;
  co_await on_error(502, std::move(message), 0, status_ > 0 && status_ < 400);
  co_return true;
}

awaitable<void> JsonReplySink::end() {
  if (status_ >= 400) {
    failed_ = true;
    co_await on_error(status_, ollama_error_message(pending_), 0, false);
    co_return;
  }
  std::string rest = std::move(pending_);
  if (co_await take_line(rest) || failed_) co_return;
  co_await on_end();
}

awaitable<void> JsonReplySink::broke(std::string message) {
  if (failed_) co_return;
  failed_ = true;
  co_await on_error(502, std::move(message), 0, status_ < 400);
}

awaitable<void> JsonReplySink::cut_short(int status, std::string message) {
  if (failed_) co_return;
  failed_ = true;
  co_await on_error(status, std::move(message), 0, status_ < 400);
}

awaitable<void> JsonReplySink::declined(int status, std::string, std::string body) {
  failed_ = true;
  co_await on_error(status, ollama_error_message(body), 0, false);
}

awaitable<void> JsonReplySink::fail(int status, std::string message, int retry_after_s) {
  failed_ = true;
  co_await on_error(status, std::move(message), retry_after_s, false);
}

}  // namespace hydra::api
