#pragma once
// A llama-server node's reply on its way to a sink that expects Ollama's (issue #21): the
// sink chain above (the Ollama API's passthrough, the OpenAI translation, the cache, the
// orchestrator's collector) sees NDJSON lines and JSON objects as any Ollama node sends them.
// Lives for one attempt (api/attempt.cpp). Every call but the reply's own goes to `inner`.
#include "api/llama/reply.hpp"
#include "api/sink.hpp"

namespace hydra::api {

class LlamaSink : public ReplySink {
public:
  LlamaSink(ReplySink& inner, const llama::Translated& request, std::size_t reply_limit);

  http::awaitable<void> gone() override { return inner_.gone(); }
  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) override;
  http::awaitable<bool> data(std::string_view bytes) override;
  http::awaitable<void> end() override;
  http::awaitable<void> broke(std::string message) override { return inner_.broke(std::move(message)); }
  http::awaitable<void> cut_short(int status, std::string message) override {
    return inner_.cut_short(status, std::move(message));
  }
  http::awaitable<void> declined(int status, std::string content_type, std::string body) override {
    return inner_.declined(status, std::move(content_type), std::move(body));
  }
  http::awaitable<void> fail(int status, std::string message, int retry_after_s) override {
    return inner_.fail(status, std::move(message), retry_after_s);
  }

  uint64_t eval_count() const { return translator_.eval_count(); }
  uint64_t prompt_eval_count() const { return translator_.prompt_eval_count(); }

private:
  ReplySink& inner_;
  llama::ReplyTranslator translator_;
  bool stream_;
  bool error_ = false;     // the node answered with an error status: its body is translated at the end
  std::string collected_;  // a whole reply (or an error body) until the end
  std::size_t limit_;
  bool too_long_ = false;
};

// The answer to a request that only loads the model, without asking the node.
http::awaitable<void> answer_load(ReplySink& sink, const llama::Translated& request, const Served& served);

}  // namespace hydra::api
