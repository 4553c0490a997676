#include "sim/llama_bodies.hpp"

#include <boost/json/serialize.hpp>

namespace hydra::sim {

namespace json = boost::json;

namespace {

double per_second(int n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0; }
double per_token(int n, double ms) { return n > 0 ? ms / n : 0; }

json::object usage(const LlamaOutcome& o) {
  json::object details;
  details["cached_tokens"] = o.cached;
  json::object u;
  u["completion_tokens"] = o.predicted;
  u["prompt_tokens"] = o.prompt_tokens;
  u["total_tokens"] = o.prompt_tokens + o.predicted;
  u["prompt_tokens_details"] = std::move(details);
  return u;
}

json::object chat_head(const LlamaOutcome& o, const char* object) {
  json::object c;
  c["created"] = o.created;
  c["id"] = o.id;
  c["model"] = o.model;
  c["system_fingerprint"] = "b0-hydra-sim";
  c["object"] = object;
  return c;
}

json::object chunk(const LlamaOutcome& o, json::object delta, json::value finish_reason) {
  json::object choice;
  choice["finish_reason"] = std::move(finish_reason);
  choice["index"] = 0;
  choice["delta"] = std::move(delta);
  json::array choices;
  choices.push_back(std::move(choice));
  json::object c = chat_head(o, "chat.completion.chunk");
  c["choices"] = std::move(choices);
  return c;
}

const char* finish_reason(const LlamaOutcome& o) { return o.limited ? "length" : "stop"; }

}  // namespace

json::object llama_timings(const LlamaOutcome& o) {
  const int evaluated = o.prompt_tokens - o.cached;
  json::object t;
  t["cache_n"] = o.cached;
  t["prompt_n"] = evaluated;
  t["prompt_ms"] = o.prompt_ms;
  t["prompt_per_token_ms"] = per_token(evaluated, o.prompt_ms);
  t["prompt_per_second"] = per_second(evaluated, o.prompt_ms);
  t["predicted_n"] = o.predicted;
  t["predicted_ms"] = o.predicted_ms;
  t["predicted_per_token_ms"] = per_token(o.predicted, o.predicted_ms);
  t["predicted_per_second"] = per_second(o.predicted, o.predicted_ms);
  return t;
}

json::object completion_partial(const LlamaOutcome& o, std::string_view token) {
  json::object c;
  c["index"] = 0;
  c["content"] = token;
  c["tokens"] = json::array();
  c["stop"] = false;
  c["id_slot"] = o.slot;
  c["tokens_predicted"] = o.predicted;
  c["tokens_evaluated"] = o.prompt_tokens;
  return c;
}

json::object completion_final(const LlamaOutcome& o, bool streamed) {
  json::object c;
  c["index"] = 0;
  c["content"] = streamed ? std::string() : o.text;
  c["tokens"] = json::array();
  c["id_slot"] = o.slot;
  c["stop"] = true;
  c["model"] = o.model;
  c["tokens_predicted"] = o.predicted;
  c["tokens_evaluated"] = o.prompt_tokens;
  json::object settings;
  settings["n_predict"] = -1;
  settings["stream"] = streamed;
  c["generation_settings"] = std::move(settings);
  c["prompt"] = o.prompt;
  c["has_new_line"] = o.text.find('\n') != std::string::npos;
  c["truncated"] = false;
  c["stop_type"] = o.limited ? "limit" : "eos";
  c["stopping_word"] = "";
  c["tokens_cached"] = o.prompt_tokens + o.predicted;  // what the slot holds afterwards
  c["timings"] = llama_timings(o);
  return c;
}

json::object chat_whole(const LlamaOutcome& o) {
  json::object message;
  message["role"] = "assistant";
  message["content"] = o.text;
  json::object choice;
  choice["finish_reason"] = finish_reason(o);
  choice["index"] = 0;
  choice["message"] = std::move(message);
  json::array choices;
  choices.push_back(std::move(choice));
  json::object c = chat_head(o, "chat.completion");
  c["choices"] = std::move(choices);
  c["usage"] = usage(o);
  c["timings"] = llama_timings(o);
  return c;
}

json::object chat_role_chunk(const LlamaOutcome& o) {
  json::object delta;
  delta["role"] = "assistant";
  delta["content"] = nullptr;
  return chunk(o, std::move(delta), nullptr);
}

json::object chat_delta_chunk(const LlamaOutcome& o, std::string_view token) {
  json::object delta;
  delta["content"] = token;
  return chunk(o, std::move(delta), nullptr);
}

json::object chat_final_chunk(const LlamaOutcome& o) {
  json::object c = chunk(o, json::object(), json::value(finish_reason(o)));
  c["timings"] = llama_timings(o);
  return c;
}

json::object chat_usage_chunk(const LlamaOutcome& o) {
  json::object c = chat_head(o, "chat.completion.chunk");
  c["choices"] = json::array();
  c["usage"] = usage(o);
  c["timings"] = llama_timings(o);
  return c;
}

std::string sse_event(const json::object& o) {
  std::string out = "data: ";
  out += json::serialize(o);
  out += "\n\n";
  return out;
}

}  // namespace hydra::sim
