// /api/generate and /api/chat: validation, load/unload requests, paced token streams,
// faults, and the final chunk with measured durations.
#include <cctype>
#include "common/json.hpp"
#include "common/timefmt.hpp"
#include "sim/model_use.hpp"
#include "sim/continue.hpp"
#include "sim/node.hpp"
#include "sim/pacing.hpp"
#include "sim/prompt_cache.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <fmt/format.h>

namespace hydra::sim {

namespace json = boost::json;
using http::bhttp::status;

namespace {

struct GenRequest {
  bool chat = false;
  std::string model;
  bool stream = true;
  KeepAlive keep_alive = kDefaultKeepAlive;
  std::string prompt;  // what the reply is derived from (all message contents for chat)
  bool empty = false;  // no prompt: a load (or, with keep_alive 0, an unload) request
  std::optional<int64_t> num_predict;
  uint64_t seed = 0;   // options.seed: varies the text like the node's --seed
  bool raw = false;    // generate: the prompt as it is (a partial answer may end it)
  std::string partial; // chat: a trailing assistant message, which the reply goes on from
  std::vector<std::string> tools;  // chat: the names of the function tools offered
  bool answers_call = false;       // chat: the last message is a tool's result
  Tokens rendered;                 // the prompt as the slot caches see it (prompt_cache.hpp)
};

std::variant<GenRequest, JsonError> parse_request(const std::string& body, bool chat) {
  auto parsed = parse_json_object(body);
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  const auto& obj = std::get<json::object>(parsed);
  FieldReader r{obj};
  GenRequest req;
  req.chat = chat;
  req.model = r.string("model").value_or("");
  req.stream = r.boolean("stream").value_or(true);
  if (chat) {
    const json::array* messages = r.array("messages");
    if (messages) {
      for (std::size_t i = 0; i < messages->size(); ++i) {
        const json::object* mo = (*messages)[i].if_object();
        const json::value* role = mo ? mo->if_contains("role") : nullptr;
        if (!role || !role->is_string()) return JsonError{"invalid message: role is required"};
        const json::value* content = mo->if_contains("content");
        if (content && !content->is_string() && !content->is_null())
          return JsonError{"invalid message: content must be a string"};
        if (!content || !content->is_string()) continue;
        // As Ollama does, a last assistant message is an answer to go on with, not a turn.
        append_tokens(req.rendered, role->get_string(), content->get_string());
        if (i + 1 == messages->size() && role->get_string() == "assistant" && !content->get_string().empty()) {
          req.partial = content->get_string();
          continue;
        }
        if (!req.prompt.empty()) req.prompt += "\n";
        req.prompt += content->get_string();
      }
    }
    req.empty = !messages || messages->empty();
    if (messages && !messages->empty())
      if (const json::object* last = messages->back().if_object())
        if (const json::value* role = last->if_contains("role"); role && role->is_string())
          req.answers_call = role->get_string() == "tool";
    if (const json::array* tools = r.array("tools"))
      for (const auto& t : *tools) {
        const json::object* tool = t.if_object();
        const json::value* fn = tool ? tool->if_contains("function") : nullptr;
        const json::value* name = fn && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
        if (name && name->is_string()) req.tools.emplace_back(name->get_string());
      }
  } else {
    std::string prompt = r.string("prompt").value_or("");
    std::string system = r.string("system").value_or("");
    req.empty = prompt.empty();
    req.prompt = system.empty() ? prompt : system + "\n" + prompt;
    append_tokens(req.rendered, "system", system);
    append_tokens(req.rendered, "user", prompt);
    req.raw = r.boolean("raw").value_or(false);
  }
  if (const json::object* options = r.object("options")) {
    FieldReader o{*options};
    req.num_predict = o.integer("num_predict");
    req.seed = static_cast<uint64_t>(o.integer("seed").value_or(0));
    if (o.error) return *o.error;
  }
  if (r.error) return *r.error;
  auto keep = parse_keep_alive(r.raw("keep_alive"), kDefaultKeepAlive);
  if (!keep.value) return JsonError{keep.error};
  req.keep_alive = *keep.value;
  return req;
}

json::object chunk_base(const Node& node, const GenRequest& req) {
  return json::object{{"model", req.model}, {"created_at", rfc3339(node.clock().wall())}};
}

void put_text(json::object& o, const GenRequest& req, std::string_view text) {
  if (req.chat)
    o["message"] = json::object{{"role", "assistant"}, {"content", text}};
  else
    o["response"] = text;
}

int64_t nanos(Nanos d) { return static_cast<int64_t>(d.count()); }

// The reply to a request (sim/continue.hpp: a trailing assistant text is gone on with).
Reply answer(const Node& node, const std::string& model, const GenRequest& req) {
  const uint64_t seed = node.config().seed ^ (req.seed * 0x9e3779b97f4a7c15ULL);
  return continued_reply(node.replies(), node.config().name, model, req.prompt, req.partial, req.raw, seed);
}

// The calls a scripted reply makes: only when the request offers every tool they name and is
// not itself the answer to a call (then the reply is words, as a model that read the result).
json::array tool_calls_of(const GenRequest& req, const Reply& reply) {
  json::array calls;
  if (!req.chat || req.answers_call || reply.tool_calls.empty()) return calls;
  for (const auto& call : reply.tool_calls) {
    if (std::find(req.tools.begin(), req.tools.end(), call.name) == req.tools.end()) return {};
    boost::system::error_code ec;  // the script's own JSON, read once already
    json::value args = json::parse(call.arguments, ec);
    calls.push_back(json::object{{"function", json::object{{"name", call.name}, {"arguments", std::move(args)}}}});
  }
  return calls;
}

// A slot's prompt cache held by one request: given back (caching what the slot evaluated) when
// the request ends, however it ends.
class CachedSlot {
public:
  CachedSlot(Node& node, const std::string& model, Tokens prompt) : node_(node), alive_(node.alive()), model_(model) {
    const ResidentModel* resident = node.residency().find(model);
    load_id_ = resident ? resident->load_id : 0;
    taken_ = node.prompt_cache(model, load_id_).take(prompt);
    tokens_ = std::move(prompt);
  }
  ~CachedSlot() {
    if (*alive_) node_.give_back_slot(model_, load_id_, taken_.slot, std::move(tokens_));
  }
  CachedSlot(const CachedSlot&) = delete;
  CachedSlot& operator=(const CachedSlot&) = delete;
  std::size_t reused() const { return taken_.reused; }
  // The reply is evaluated too: the next turn finds it in the cache after its prompt.
  void add_reply(std::string_view text) { append_tokens(tokens_, "assistant", text); }

private:
  Node& node_;
  std::shared_ptr<const bool> alive_;
  std::string model_;
  uint64_t load_id_ = 0;
  PromptCache::Taken taken_;
  Tokens tokens_;
};

// One NDJSON chunk of a stream; false when the client has gone (counted as cancelled).
http::awaitable<bool> send_line(Node& node, http::Exchange& ex, const json::object& chunk) {
  std::string line = json::serialize(chunk);
  line += '\n';
  if (co_await ex.send_chunk(line)) {
    ++node.stats().cancelled;
    co_return false;
  }
  ++node.stats().chunks;
  co_return true;
}

// A broken node: 200, then one line that never ends (64 KiB every 10 ms, about 6 MB/s) until
// the client leaves (counted as cancelled) or 256 MiB went out (then the connection drops).
http::awaitable<void> flood(Node& node, http::Exchange& ex, bool stream) {
  const char* type = stream ? "application/x-ndjson" : "application/json; charset=utf-8";
  if (co_await ex.begin_stream(status::ok, type)) {
    ++node.stats().cancelled;
    co_return;
  }
  std::string piece(64 * 1024, 'x');
  piece.replace(0, 13, "{\"response\":\"");
  auto next = std::chrono::steady_clock::now();
  for (int i = 0; i < 4096; ++i) {
    if (co_await ex.send_chunk(piece)) {
      ++node.stats().cancelled;
      co_return;
    }
    piece.assign(piece.size(), 'x');
    next += std::chrono::milliseconds(10);
    if (!co_await pace_until(ex, next)) {
      ++node.stats().cancelled;
      co_return;
    }
  }
  ex.abort();
}

// Answers an empty-prompt request: load the model (done_reason "load") or unload it.
http::awaitable<void> load_or_unload(Node& node, http::Exchange& ex, const GenRequest& req,
                                     const ModelSpec& spec) {
  json::object out = chunk_base(node, req);
  put_text(out, req, "");
  out["done"] = true;
  if (!req.keep_alive.forever && req.keep_alive.duration <= Nanos(0)) {
    node.residency().unload(spec.name);
    node.changed().notify_all();
    out["done_reason"] = "unload";
  } else {
    UseOutcome use = co_await use_model(node, spec, req.keep_alive);
    if (!use.use) {
      co_await ex.respond_error(use.status, use.error);
      co_return;
    }
    out["done_reason"] = "load";
  }
  co_await ex.respond_json(status::ok, out);
}

http::awaitable<void> generate(Node& node, http::Exchange& ex, bool chat) {
  const auto started = node.clock().now();
  ++node.stats().by_path[std::string(ex.path())];
  auto parsed = parse_request(ex.body(), chat);
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    co_await ex.respond_error(status::bad_request, err->message);
    co_return;
  }
  GenRequest& req = std::get<GenRequest>(parsed);
  if (req.model.empty()) {
    co_await ex.respond_error(status::bad_request, "model is required");
    co_return;
  }
  node.residency().expire();
  const ModelSpec* found = node.catalog().find(req.model);
  if (!found) {
    co_await ex.respond_error(
        status::not_found, fmt::format("model \"{}\" not found, try pulling it first", req.model));
    co_return;
  }
  const ModelSpec spec = *found;  // the catalogue may change while this request runs
  ++node.stats().by_model[spec.name];
  if (spec.embedding_only) {
    co_await ex.respond_error(status::bad_request,
                              fmt::format("\"{}\" does not support {}", req.model, chat ? "chat" : "generate"));
    co_return;
  }
  if (req.empty) {
    co_await load_or_unload(node, ex, req, spec);
    co_return;
  }

  Fault fault = node.take_fault();
  if (fault.mode == Fault::Mode::error500) {
    co_await ex.respond_error(static_cast<status>(fault.status), fault.message);
    co_return;
  }
  if (fault.mode == Fault::Mode::flood) {
    co_await flood(node, ex, req.stream);
    co_return;
  }
  if (fault.mode == Fault::Mode::hang) {
    co_await ex.wait_closed();
    ex.abort();
    co_return;
  }

  std::optional<UseOutcome> waited = co_await use_model_for(node, spec, req.keep_alive, ex);
  if (!waited) {  // the client left while the request waited for a slot or a load
    ++node.stats().cancelled;
    ex.abort();
    co_return;
  }
  UseOutcome use = std::move(*waited);
  if (!use.use) {
    co_await ex.respond_error(use.status, use.error);
    co_return;
  }
  const Nanos load_duration = use.use->load_duration;

  Reply reply = answer(node, spec.name, req);
  std::string done_reason = "stop";
  if (req.num_predict && *req.num_predict >= 0 &&
      static_cast<size_t>(*req.num_predict) < reply.tokens.size()) {
    reply.tokens.resize(static_cast<size_t>(*req.num_predict));
    done_reason = "length";
  }
  // A reply that calls tools says nothing else; its calls come in one chunk, as Ollama's do.
  const json::array calls = tool_calls_of(req, reply);
  if (!calls.empty()) reply.tokens.clear();
  const int64_t call_tokens = calls.empty() ? 0 : count_tokens(json::serialize(calls));
  double tps = reply.tokens_per_second.value_or(node.config().tokens_per_second);
  auto interval = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(1.0 / std::max(tps, 1e-3)));
  if (fault.mode == Fault::Mode::slow) interval = Nanos(static_cast<int64_t>(interval.count() * fault.slow_factor));
  // Its words (the rendered prompt's tokens, a trailing partial answer's included) and the start token.
  const int prompt_tokens = static_cast<int>(req.rendered.size()) + 1;
  // The slot whose cache shares the longest prefix; at least one token is always evaluated.
  CachedSlot slot(node, spec.name, std::move(req.rendered));
  const int reused = static_cast<int>(std::min<std::size_t>(slot.reused(), static_cast<std::size_t>(prompt_tokens - 1)));
  const int evaluated = prompt_tokens - reused;
  node.stats().prompt_tokens_evaluated += static_cast<uint64_t>(evaluated);
  node.stats().prompt_tokens_reused += static_cast<uint64_t>(reused);

  ++node.stats().generations;
  const auto eval_start = std::chrono::steady_clock::now();
  auto next = eval_start + std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(evaluated / node.prompt_rate()));
  if (!co_await pace_until(ex, next)) {
    ++node.stats().cancelled;
    co_return;
  }
  const auto gen_start = std::chrono::steady_clock::now();
  const Nanos prompt_eval_duration = gen_start - eval_start;

  if (req.stream) {
    if (co_await ex.begin_stream(status::ok, "application/x-ndjson")) {
      ++node.stats().cancelled;
      co_return;
    }
  }
  std::string full;
  int sent = 0;
  for (const auto& token : reply.tokens) {
    next += interval;
    if (!co_await pace_until(ex, next)) {
      ++node.stats().cancelled;
      co_return;
    }
    full += token;
    if (!req.stream) continue;
    if (fault.mode == Fault::Mode::cut && sent >= fault.after_chunks) {
      ex.abort();
      co_return;
    }
    if (fault.mode == Fault::Mode::error_line && sent >= fault.after_chunks) {
      // As Ollama reports a runner that failed mid-reply: an error line, then the end.
      std::string line = json::serialize(json::object{{"error", fault.message}});
      line += '\n';
      if (!co_await ex.send_chunk(line)) co_await ex.end_stream();
      co_return;
    }
    json::object chunk = chunk_base(node, req);
    put_text(chunk, req, token);
    chunk["done"] = false;
    if (!co_await send_line(node, ex, chunk)) co_return;
    ++sent;
    count_token_for_exit(node);
  }

  if (!calls.empty()) {
    next += interval;  // the calls take a token's time
    if (!co_await pace_until(ex, next)) {
      ++node.stats().cancelled;
      co_return;
    }
    json::object chunk = chunk_base(node, req);
    chunk["message"] = json::object{{"role", "assistant"}, {"content", ""}, {"tool_calls", calls}};
    chunk["done"] = false;
    if (req.stream && !co_await send_line(node, ex, chunk)) co_return;
  }

  const auto finished = std::chrono::steady_clock::now();
  slot.add_reply(full);
  json::object last = chunk_base(node, req);
  put_text(last, req, req.stream ? std::string_view() : std::string_view(full));
  if (!calls.empty() && !req.stream) last["message"].as_object()["tool_calls"] = calls;
  last["done"] = true;
  last["done_reason"] = done_reason;
  if (!chat) {
    json::array context;
    for (int i = 0; i < prompt_tokens + static_cast<int>(reply.tokens.size()); ++i) context.push_back(1000 + i % 31000);
    last["context"] = std::move(context);
  }
  last["total_duration"] = nanos(node.clock().now() - started);
  last["load_duration"] = nanos(load_duration);
  last["prompt_eval_count"] = evaluated;  // as Ollama reports it: the tokens not found in the cache
  last["prompt_eval_duration"] = nanos(prompt_eval_duration);
  last["eval_count"] = static_cast<int64_t>(reply.tokens.size()) + call_tokens;
  last["eval_duration"] = nanos(finished - gen_start);
  ++node.stats().completed;
  if (req.stream) {
    std::string line = json::serialize(last);
    line += '\n';
    if (!co_await ex.send_chunk(line)) co_await ex.end_stream();
  } else {
    co_await ex.respond_json(status::ok, last);
  }
}

}  // namespace

void add_generation_routes(http::Router& router, Node& node) {
  router.add(http::bhttp::verb::post, "/api/generate",
             [&node](http::Exchange& ex) { return generate(node, ex, false); });
  router.add(http::bhttp::verb::post, "/api/chat",
             [&node](http::Exchange& ex) { return generate(node, ex, true); });
}

}  // namespace hydra::sim
