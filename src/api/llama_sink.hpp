#pragma once
// A llama-server node's reply on its way to a sink that expects Ollama's (issue #21): the
// sink chain above (the Ollama API's passthrough, the OpenAI translation, the cache, the
// orchestrator's collector) sees NDJSON lines and JSON objects as any Ollama node sends them.
// Lives for one attempt (api/attempt.cpp). Every call but the reply's own goes to `inner`.
#include "api/llama/reply.hpp"
#include "api/forwarding_sink.hpp"

namespace hydra::api {

class LlamaSink : public ForwardingSink {
public:
  LlamaSink(ReplySink& inner, const llama::Translated& request, std::size_t reply_limit);

  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) override;
  http::awaitable<bool> data(std::string_view bytes) override;
  http::awaitable<void> end() override;

  uint64_t eval_count() const { return translator_.eval_count(); }
  uint64_t prompt_eval_count() const { return translator_.prompt_eval_count(); }

private:
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
