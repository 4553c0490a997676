#pragma once
// The Ollama API's sink: the node's reply goes to the client byte for byte, with the routing
// headers (X-Hydra-Node, X-Hydra-Route-Reason) added. A failure after the first byte ends an
// NDJSON stream with an Ollama error line; a sized body cannot carry one, so the connection drops.
// Nothing is buffered; in an NDJSON stream only the length of the current line is counted, and
// a line longer than limits.line_kb ends the stream with an error line (the relay then drops
// the node). Other bodies (one JSON object, e.g. embeddings) pass whatever their size.
#include "api/sink.hpp"
#include "http/exchange.hpp"

namespace hydra::api {

// Ollama's 503 with a Retry-After hint, or its plain {"error": ...}.
http::awaitable<void> reply_error(http::Exchange& ex, int status, std::string_view message, int retry_after_s);

class ExchangeSink : public ReplySink {
public:
  explicit ExchangeSink(http::Exchange& ex, ReplyLimits limits = {}) : ex_(ex), limits_(limits) {}

  http::awaitable<void> gone() override;
  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) override;
  http::awaitable<bool> data(std::string_view bytes) override;
  http::awaitable<void> end() override;
  std::optional<bool> begin_now(int status, std::string& content_type, std::optional<std::uint64_t> length,
                                const Served& served) override;
  std::optional<bool> data_now(std::string_view bytes) override;
  bool end_now() override;
  void body_ends() override { ending_ = true; }
  void settled() override { ex_.settle(); }
  http::awaitable<void> broke(std::string message) override;
  http::awaitable<void> declined(int status, std::string content_type, std::string body) override;
  http::awaitable<void> fail(int status, std::string message, int retry_after_s) override;

private:
  http::awaitable<void> end_with_error(std::string message);
  // Where the first line longer than limits.line_kb begins in `bytes` (0: it began before
  // them), or npos when there is none: the current line's length is counted then.
  std::size_t long_line_at(std::string_view bytes);

  http::Exchange& ex_;
  ReplyLimits limits_;
  std::string node_id_;
  bool sized_ = false;
  bool lines_ = false;       // an NDJSON stream: line lengths are counted
  std::size_t line_ = 0;     // bytes of the current line sent so far
  bool at_line_start_ = true;
  bool ending_ = false;  // body_ends(): the next data_now() brings the node's last bytes
  std::string held_;     // ... kept to go out with the end of a chunked reply (end_now())
};

}  // namespace hydra::api
