#pragma once
// The Ollama API's sink: the node's reply goes to the client byte for byte, with the routing
// headers (X-Hydra-Node, X-Hydra-Route-Reason) added. A failure after the first byte ends an
// NDJSON stream with an Ollama error line; a sized body cannot carry one, so the connection drops.
#include "api/sink.hpp"
#include "http/exchange.hpp"

namespace hydra::api {

// Ollama's 503 with a Retry-After hint, or its plain {"error": ...}.
http::awaitable<void> reply_error(http::Exchange& ex, int status, std::string_view message, int retry_after_s);

class ExchangeSink : public ReplySink {
public:
  explicit ExchangeSink(http::Exchange& ex) : ex_(ex) {}

  http::awaitable<void> gone() override;
  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) override;
  http::awaitable<bool> data(std::string_view bytes) override;
  http::awaitable<void> end() override;
  http::awaitable<void> broke(std::string message) override;
  http::awaitable<void> declined(int status, std::string content_type, std::string body) override;
  http::awaitable<void> fail(int status, std::string message, int retry_after_s) override;

private:
  http::Exchange& ex_;
  bool sized_ = false;
  bool at_line_start_ = true;
};

}  // namespace hydra::api
