#pragma once
// Base of the sinks that read a node's reply as Ollama JSON instead of forwarding its bytes:
// the OpenAI API, Hydra's /generate and the orchestrator's internal calls. It splits an NDJSON
// stream (or one whole JSON object) into objects and turns every way of failing — a node's
// error status, an {"error": ...} line mid-stream, a node breaking off, no node at all — into
// one on_error() call. It holds at most one line of a stream (limits.line_kb) or one whole
// JSON reply (limits.reply_mb); past that the node's reply is refused (a 502 error, then stop).
#include "api/sink.hpp"

#include <boost/json/object.hpp>

namespace hydra::api {

// The sentence inside an Ollama error body ({"error": "..."}), else the body itself, trimmed.
std::string ollama_error_message(std::string_view body);

class JsonReplySink : public ReplySink {
public:
  explicit JsonReplySink(ReplyLimits limits = {}) : limits_(limits) {}

  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) final;
  http::awaitable<bool> data(std::string_view bytes) final;
  http::awaitable<void> end() final;
  http::awaitable<void> broke(std::string message) final;
  http::awaitable<void> cut_short(int status, std::string message) final;
  http::awaitable<void> declined(int status, std::string content_type, std::string body) final;
  http::awaitable<void> fail(int status, std::string message, int retry_after_s) final;

  const std::optional<Served>& served() const { return served_; }
  bool failed() const { return failed_; }

protected:
  const ReplyLimits& limits() const { return limits_; }
  // Gives up on the node's reply: on_error(502, message, mid-stream), then true (stop).
  http::awaitable<bool> refuse(std::string message);

  // A node began a successful reply. True = stop (the requester is gone).
  virtual http::awaitable<bool> on_begin(const Served&) { co_return false; }
  // One object of the reply (a chunk, or the whole reply when not streamed).
  virtual http::awaitable<bool> on_object(const boost::json::object& chunk) = 0;
  // The reply ended well.
  virtual http::awaitable<void> on_end() = 0;
  // It did not: `status` is an HTTP status (the node's, or the gateway's own); `mid_stream`
  // says whether on_begin() came first. Called at most once.
  virtual http::awaitable<void> on_error(int status, std::string message, int retry_after_s, bool mid_stream) = 0;

private:
  http::awaitable<bool> take_line(std::string line);

  ReplyLimits limits_;
  std::optional<Served> served_;
  int status_ = 0;
  bool stream_ = false;  // NDJSON: pending_ holds one line; else the whole JSON reply
  bool failed_ = false;
  std::string pending_;  // a partial line, or a whole error body
};

}  // namespace hydra::api
