#include "api/cache_sink.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>

namespace hydra::api {

using http::awaitable;

namespace {

// A stream ended well when its last line is Ollama's final chunk: "done": true, no "error".
// (With failover.continue_streams off nothing else checks it: the relay ends a stream whose
// connection closed cleanly, whatever its last line said.)
bool final_chunk(std::string_view line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.get_object();
  const auto* done = o.if_contains("done");
  return done && done->is_bool() && done->get_bool() && !o.contains("error");
}

}  // namespace

bool CacheTee::ended_well() const {
  const bool whole = ended_ || (length_ && recorded_ == *length_);
  if (!whole || broken_ || status_ < 200 || status_ >= 300) return false;
  return !streamed_ || (partial_.find_first_not_of(" \r\n\t") == std::string::npos && final_chunk(last_line_));
}

void CacheTee::complete_now() {
  if (completed_ || !ended_well()) return;
  completed_ = true;
  if (on_complete_) on_complete_();
}

awaitable<void> CacheTee::gone() {
  // Not noted in inner_gone_: a cancelled wait returns too (the attempt's watch ends it);
  // the inner sink's own answers (begin/data returning true) say when its client left.
  co_await inner_.gone();
  // A cancelled wait must not await again: Asio throws operation_aborted at the next wait.
  auto state = co_await http::asio::this_coro::cancellation_state;
  if (state.cancelled() != http::asio::cancellation_type::none) co_return;
  if (flight_) co_await flight_->unfollowed();  // the others still read: the reply goes on
}

awaitable<bool> CacheTee::begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                                const Served& served) {
  status_ = status;
  length_ = length;
  node_ = served.node_id;
  streamed_ = !length && content_type.find("ndjson") != std::string::npos;
  if (flight_)
    flight_->begin(memory::FlightHead{status, content_type, streamed_, served.node_id, served.node_url, served.reason});
  if (!inner_gone_) inner_gone_ = co_await inner_.begin(status, std::move(content_type), length, served);
  co_return inner_gone_ && !followed();
}

awaitable<bool> CacheTee::data(std::string_view bytes) {
  if (flight_) flight_->data(bytes);
  if (streamed_ && (flight_ || record_limit_ > 0)) {  // keep the latest whole line, to judge the end by
    std::size_t pos = 0;
    for (std::size_t nl; (nl = bytes.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
      partial_.append(bytes.substr(pos, nl - pos));
      if (partial_.find_first_not_of(" \r\t") != std::string::npos) last_line_ = std::move(partial_);
      partial_.clear();
    }
    if (partial_.size() + (bytes.size() - pos) <= 1u << 20) partial_.append(bytes.substr(pos));
  }
  recorded_ += bytes.size();
  if (recorded_ <= record_limit_) pieces_.emplace_back(bytes);
  else pieces_.clear();  // too long to keep: complete() says no
  if (length_) complete_now();  // a sized reply is whole with its last byte
  if (!inner_gone_) inner_gone_ = co_await inner_.data(bytes);
  co_return inner_gone_ && !followed();
}

awaitable<void> CacheTee::end() {
  ended_ = true;
  complete_now();
  if (!inner_gone_) co_await inner_.end();
}

awaitable<void> CacheTee::broke(std::string message) {
  broken_ = true;
  if (!inner_gone_) co_await inner_.broke(std::move(message));
}

awaitable<void> CacheTee::cut_short(int status, std::string message) {
  broken_ = true;
  if (!inner_gone_) co_await inner_.cut_short(status, std::move(message));
}

awaitable<void> CacheTee::declined(int status, std::string content_type, std::string body) {
  broken_ = true;
  if (!inner_gone_) co_await inner_.declined(status, std::move(content_type), std::move(body));
}

awaitable<void> CacheTee::fail(int status, std::string message, int retry_after_s) {
  broken_ = true;
  if (!inner_gone_) co_await inner_.fail(status, std::move(message), retry_after_s);
}

}  // namespace hydra::api
