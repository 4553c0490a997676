#include "api/llama_sink.hpp"

#include "common/timefmt.hpp"

#include <chrono>

namespace hydra::api {

namespace {
std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }
constexpr const char* kJson = "application/json; charset=utf-8";
}  // namespace

LlamaSink::LlamaSink(ReplySink& inner, const llama::Translated& request, std::size_t reply_limit)
    : ForwardingSink(inner), translator_(request.mode, request.stream, request.model, now_rfc3339()),
      stream_(request.stream), limit_(reply_limit) {}

http::awaitable<bool> LlamaSink::begin(int status, std::string, std::optional<std::uint64_t>, const Served& served) {
  error_ = status != 200;
  const bool ndjson = stream_ && !error_;
  co_return co_await inner_.begin(status, ndjson ? "application/x-ndjson" : kJson, std::nullopt, served);
}

http::awaitable<bool> LlamaSink::data(std::string_view bytes) {
  if (error_ || !stream_) {
    if (collected_.size() + bytes.size() > limit_) too_long_ = true;
    else collected_.append(bytes);
    co_return false;
  }
  std::string out;
  const bool was_done = translator_.done();
  translator_.stamp(now_rfc3339());
  translator_.feed(bytes, out);
  if (out.empty()) co_return false;
  if (!was_done && translator_.done()) inner_.settled();
  co_return co_await inner_.data(out);
}

http::awaitable<void> LlamaSink::end() {
  std::string out;
  if (error_) {
    out = llama::ollama_error(collected_);
  } else if (too_long_) {
    out = R"({"error":"the llama-server node's reply was longer than limits.reply_mb"})";
  } else {
    translator_.stamp(now_rfc3339());
    translator_.finish(collected_, out);
  }
  if (!stream_ || error_) out += '\n';
  if (!out.empty()) {
    inner_.settled();
    bool gone = co_await inner_.data(out);
    if (gone) co_return;
  }
  co_await inner_.end();
}

http::awaitable<void> answer_load(ReplySink& sink, const llama::Translated& request, const Served& served) {
  std::string line = llama::load_reply(request.mode, request.model, now_rfc3339()) + "\n";
  if (co_await sink.begin(200, request.stream ? "application/x-ndjson" : kJson, line.size(), served)) co_return;
  sink.settled();
  if (co_await sink.data(line)) co_return;
  co_await sink.end();
}

}  // namespace hydra::api
