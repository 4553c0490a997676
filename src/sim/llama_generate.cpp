// The llama-server sim's generation: POST /completion (and /completions) and
// POST /v1/chat/completions (and /chat/completions). Queued on the node's slot gate, paced
// like the Ollama sim (--tokens-per-second, the prompt's uncached part at the prompt rate),
// with the same reply text, prompt cache and faults; framed as llama-server frames them.
#include "sim/llama_bodies.hpp"
#include "sim/continue.hpp"
#include "sim/llama_request.hpp"
#include "sim/node.hpp"
#include "sim/pacing.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <fmt/format.h>

namespace hydra::sim {

using http::bhttp::status;
using http::bhttp::verb;

namespace {

http::awaitable<void> respond_llama(http::Exchange& ex, int code, std::string_view message, std::string_view type) {
  const boost::json::value body = llama_error(code, message, type);
  co_await ex.respond_json(static_cast<status>(code), body);
}

// One generation's hold on the server: a place at the node's slot gate (taken before), then
// the model slot whose cache shares the longest prefix, shown busy in /slots. All given back
// however the request ends.
class Turn {
public:
  Turn(Node& node, Tokens prompt, int64_t n_remain) : node_(node), alive_(node.alive()) {
    LlamaModel& model = *node.llama();
    taken_ = node.prompt_cache(model.id, 0).take(prompt);
    tokens_ = std::move(prompt);
    if (LlamaSlot* s = slot_state()) *s = LlamaSlot{true, model.next_task++, 0, n_remain};
  }
  ~Turn() {
    if (!*alive_) return;
    if (LlamaSlot* s = slot_state()) {
      s->processing = false;
      node_.give_back_slot(node_.llama()->id, 0, taken_.slot, std::move(tokens_));
    }
    node_.slots().release();
  }
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;

  int slot() const { return std::max(taken_.slot, 0); }
  int64_t task() const { return task_of(); }
  std::size_t reused() const { return taken_.reused; }
  void decoded() {
    if (LlamaSlot* s = slot_state()) {
      ++s->n_decoded;
      if (s->n_remain > 0) --s->n_remain;
    }
  }
  // The reply is evaluated too: the next turn finds it in the cache after its prompt.
  void add_reply(std::string_view text) { append_tokens(tokens_, "assistant", text); }

private:
  LlamaSlot* slot_state() const {
    if (taken_.slot < 0) return nullptr;
    return &node_.llama()->slots.at(static_cast<std::size_t>(taken_.slot));
  }
  int64_t task_of() const {
    const LlamaSlot* s = slot_state();
    return s ? s->id_task : -1;
  }

  Node& node_;
  std::shared_ptr<const bool> alive_;
  PromptCache::Taken taken_;
  Tokens tokens_;
};

http::awaitable<bool> acquire_uncancelled(Node& node) {
  // Raced against the client leaving, the losing side is cancelled: it then leaves the queue
  // without exceptions.
  co_await http::asio::this_coro::throw_if_cancelled(false);
  const bool held = co_await node.slots().acquire();
  co_return held;
}

// A place at the slot gate: 1 held, 0 the queue is full, -1 the client left while queued.
http::awaitable<int> enter(Node& node, http::Exchange& ex) {
  using namespace boost::asio::experimental::awaitable_operators;
  if (node.slots().free()) {
    const bool held = co_await node.slots().acquire();
    co_return held ? 1 : 0;
  }
  auto raced = co_await (acquire_uncancelled(node) || ex.wait_closed());
  if (raced.index() == 1) co_return -1;
  co_return std::get<0>(raced) ? 1 : 0;
}

// One SSE event; false when the client has gone (counted as cancelled).
http::awaitable<bool> send_event(Node& node, http::Exchange& ex, std::string event) {
  const auto ec = co_await ex.send_chunk(event);
  if (ec) {
    ++node.stats().cancelled;
    co_return false;
  }
  ++node.stats().chunks;
  co_return true;
}

double millis(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string stream_error(const Fault& fault) { return sse_event(llama_error(500, fault.message, "server_error")); }

http::awaitable<void> generate(Node& node, http::Exchange& ex, bool chat) {
  ++node.stats().by_path[std::string(ex.path())];
  auto parsed = chat ? parse_chat_request(ex.body()) : parse_completion_request(ex.body());
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    co_await respond_llama(ex, 400, err->message, "invalid_request_error");
    co_return;
  }
  LlamaRequest req = std::move(std::get<LlamaRequest>(parsed));
  LlamaModel& model = *node.llama();
  ++node.stats().by_model[model.id];

  const Fault fault = node.take_fault();
  if (fault.mode == Fault::Mode::error500) {
    co_await respond_llama(ex, fault.status, fault.message, "server_error");
    co_return;
  }
  if (fault.mode == Fault::Mode::hang) {
    co_await ex.wait_closed();
    ex.abort();
    co_return;
  }
  const int entered = co_await enter(node, ex);
  if (entered < 0) {
    ++node.stats().cancelled;
    ex.abort();
    co_return;
  }
  if (entered == 0) {
    ++node.stats().rejected;
    co_await respond_llama(ex, 503, "server busy, please try again later", "unavailable_error");
    co_return;
  }

  const uint64_t seed = node.config().seed ^ (req.seed * 0x9e3779b97f4a7c15ULL);
  Reply reply = continued_reply(node.replies(), node.config().name, model.id, req.prompt, req.partial, !req.chat, seed);
  bool limited = false;
  if (req.n_predict && *req.n_predict >= 0 && static_cast<std::size_t>(*req.n_predict) < reply.tokens.size()) {
    reply.tokens.resize(static_cast<std::size_t>(*req.n_predict));
    limited = true;
  }
  const double tps = reply.tokens_per_second.value_or(node.config().tokens_per_second);
  auto interval = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(1.0 / std::max(tps, 1e-3)));
  if (fault.mode == Fault::Mode::slow) interval = Nanos(static_cast<int64_t>(interval.count() * fault.slow_factor));

  // The sim's token rule: the rendered prompt's words and the start token (never cached).
  const int prompt_tokens = static_cast<int>(req.rendered.size()) + 1;
  const int64_t n_remain = req.n_predict && *req.n_predict >= 0 ? *req.n_predict : -1;
  Turn turn(node, std::move(req.rendered), n_remain);
  LlamaOutcome out;
  out.model = req.model.empty() ? model.id : req.model;
  out.id = fmt::format("chatcmpl-{}-{}", node.config().name, turn.task());
  out.created = std::chrono::duration_cast<std::chrono::seconds>(node.clock().wall().time_since_epoch()).count();
  out.slot = turn.slot();
  out.prompt_tokens = prompt_tokens;
  out.cached = static_cast<int>(std::min<std::size_t>(turn.reused(), static_cast<std::size_t>(prompt_tokens - 1)));
  out.limited = limited;
  if (!chat) out.prompt = req.prompt;
  const int evaluated = prompt_tokens - out.cached;
  node.stats().prompt_tokens_evaluated += static_cast<uint64_t>(evaluated);
  node.stats().prompt_tokens_reused += static_cast<uint64_t>(out.cached);
  ++node.stats().generations;

  const auto eval_start = std::chrono::steady_clock::now();
  auto next = eval_start + std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(evaluated / node.prompt_rate()));
  const bool evaluated_ok = co_await pace_until(ex, next);
  if (!evaluated_ok) {
    ++node.stats().cancelled;
    co_return;
  }
  const auto gen_start = std::chrono::steady_clock::now();
  out.prompt_ms = millis(gen_start - eval_start);

  if (req.stream) {
    const auto ec = co_await ex.begin_stream(status::ok, "text/event-stream");
    if (ec) {
      ++node.stats().cancelled;
      co_return;
    }
    if (chat) {
      std::string first = sse_event(chat_role_chunk(out));
      const bool sent = co_await send_event(node, ex, std::move(first));
      if (!sent) co_return;
    }
  }
  int sent_tokens = 0;
  for (const auto& token : reply.tokens) {
    next += interval;
    const bool paced = co_await pace_until(ex, next);
    if (!paced) {
      ++node.stats().cancelled;
      co_return;
    }
    out.text += token;
    ++out.predicted;
    turn.decoded();
    if (!req.stream) continue;
    if (fault.mode == Fault::Mode::cut && sent_tokens >= fault.after_chunks) {
      ex.abort();
      co_return;
    }
    if (fault.mode == Fault::Mode::error_line && sent_tokens >= fault.after_chunks) {
      const std::string error = stream_error(fault);
      const auto ec = co_await ex.send_chunk(error);
      if (!ec) co_await ex.end_stream();
      co_return;
    }
    std::string event = chat ? sse_event(chat_delta_chunk(out, token)) : sse_event(completion_partial(out, token));
    const bool sent = co_await send_event(node, ex, std::move(event));
    if (!sent) co_return;
    ++sent_tokens;
    count_token_for_exit(node);
  }
  out.predicted_ms = millis(std::chrono::steady_clock::now() - gen_start);
  turn.add_reply(out.text);
  ++node.stats().completed;

  if (!req.stream) {
    boost::json::value whole;
    if (chat) whole = chat_whole(out);
    else whole = completion_final(out, false);
    co_await ex.respond_json(status::ok, whole);
    co_return;
  }
  std::string tail = chat ? sse_event(chat_final_chunk(out)) : sse_event(completion_final(out, true));
  if (chat && req.include_usage) tail += sse_event(chat_usage_chunk(out));
  if (chat) tail += "data: [DONE]\n\n";  // OpenAI's routes only; /completion ends without it
  const auto ec = co_await ex.send_chunk(tail);
  if (!ec) co_await ex.end_stream();
}

}  // namespace

void add_llama_generation_routes(http::Router& router, Node& node) {
  for (const char* path : {"/completion", "/completions"})
    router.add(verb::post, path, [&node](http::Exchange& ex) { return generate(node, ex, false); });
  for (const char* path : {"/v1/chat/completions", "/chat/completions"})
    router.add(verb::post, path, [&node](http::Exchange& ex) { return generate(node, ex, true); });
}

}  // namespace hydra::sim
