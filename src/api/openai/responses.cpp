#include "api/openai/responses.hpp"

#include "api/openai/tool_calls.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace hydra::api::openai {

namespace json = boost::json;
using detail::string_field;

namespace {

json::object text_part(std::string_view text) {
  return json::object{{"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
}

json::object summary_part(std::string_view text) { return json::object{{"type", "summary_text"}, {"text", text}}; }

bool integer_of(const json::object& usage, std::string_view key, int64_t& out) {
  const json::value* v = usage.if_contains(key);
  if (!v || !v->is_int64()) return false;
  out = v->get_int64();
  return true;
}

json::object responses_usage(const json::object& final_chunk) {
  const json::object u = detail::usage(final_chunk);
  int64_t in = 0, out = 0;
  integer_of(u, "prompt_tokens", in);
  integer_of(u, "completion_tokens", out);
  return json::object{{"input_tokens", in},
                      {"input_tokens_details", json::object{{"cached_tokens", 0}}},
                      {"output_tokens", out},
                      {"output_tokens_details", json::object{{"reasoning_tokens", 0}}},
                      {"total_tokens", in + out}};
}

}  // namespace

std::string ResponseBuilder::event(std::string_view type, json::object fields) {
  json::object o;
  o["type"] = type;
  o["sequence_number"] = sequence_++;
  for (auto& field : fields) o[field.key()] = std::move(field.value());
  return fmt::format("event: {}\ndata: {}\n\n", type, json::serialize(o));
}

std::string ResponseBuilder::next_id(std::string_view prefix) const {
  // Seeded by the response id (ids differ between responses) and the item's kind and place.
  return detail::derived_id(prefix, fmt::format("{}/{}", ctx_.id, prefix), output_.size());
}

json::object ResponseBuilder::response() const {
  json::object r;
  r["id"] = ctx_.id;
  r["object"] = "response";
  r["created_at"] = ctx_.created;
  r["status"] = status_;
  r["error"] = error_;
  r["incomplete_details"] = incomplete_;
  auto echoed = [&](std::string_view key) {
    const json::value* v = ctx_.echo.if_contains(key);
    r[key] = v ? *v : json::value(nullptr);
  };
  echoed("instructions");
  echoed("max_output_tokens");
  r["model"] = ctx_.model;
  r["output"] = output_;
  echoed("parallel_tool_calls");
  r["previous_response_id"] = nullptr;
  echoed("reasoning");
  r["store"] = false;  // nothing is kept: a later request cannot refer to this one
  for (std::string_view key : {"temperature", "text", "tool_choice", "tools", "top_p", "truncation"}) echoed(key);
  r["usage"] = usage_;
  echoed("user");
  echoed("metadata");
  return r;
}

std::string ResponseBuilder::start() {
  if (started_) return {};
  started_ = true;
  std::string out = event("response.created", {{"response", response()}});
  out += event("response.in_progress", {{"response", response()}});
  return out;
}

json::object ResponseBuilder::open_item(std::string_view status) const {
  if (open_ == Open::reasoning)
    return json::object{{"id", open_id_}, {"type", "reasoning"}, {"summary", json::array{summary_part(text_)}}};
  return json::object{{"id", open_id_},
                      {"type", "message"},
                      {"status", status},
                      {"role", "assistant"},
                      {"content", json::array{text_part(text_)}}};
}

std::string ResponseBuilder::open(Open what) {
  if (open_ == what) return {};
  std::string out = close("completed");
  open_ = what;
  text_.clear();
  const size_t index = output_.size();
  if (what == Open::reasoning) {
    open_id_ = next_id("rs_");
    out += event("response.output_item.added",
                 {{"output_index", index},
                  {"item", json::object{{"id", open_id_}, {"type", "reasoning"}, {"summary", json::array()}}}});
    out += event("response.reasoning_summary_part.added",
                 {{"item_id", open_id_}, {"output_index", index}, {"summary_index", 0}, {"part", summary_part("")}});
  } else {
    open_id_ = next_id("msg_");
    out += event("response.output_item.added",
                 {{"output_index", index},
                  {"item", json::object{{"id", open_id_},
                                        {"type", "message"},
                                        {"status", "in_progress"},
                                        {"role", "assistant"},
                                        {"content", json::array()}}}});
    out += event("response.content_part.added",
                 {{"item_id", open_id_}, {"output_index", index}, {"content_index", 0}, {"part", text_part("")}});
  }
  return out;
}

std::string ResponseBuilder::close(std::string_view status) {
  if (open_ == Open::none) return {};
  const size_t index = output_.size();
  std::string out;
  if (open_ == Open::reasoning) {
    out += event("response.reasoning_summary_text.done",
                 {{"item_id", open_id_}, {"output_index", index}, {"summary_index", 0}, {"text", text_}});
    out += event("response.reasoning_summary_part.done",
                 {{"item_id", open_id_}, {"output_index", index}, {"summary_index", 0}, {"part", summary_part(text_)}});
  } else {
    out += event("response.output_text.done", {{"item_id", open_id_},
                                               {"output_index", index},
                                               {"content_index", 0},
                                               {"text", text_},
                                               {"logprobs", json::array()}});
    out += event("response.content_part.done",
                 {{"item_id", open_id_}, {"output_index", index}, {"content_index", 0}, {"part", text_part(text_)}});
  }
  json::object item = open_item(status);
  out += event("response.output_item.done", {{"output_index", index}, {"item", item}});
  output_.push_back(std::move(item));
  open_ = Open::none;
  text_.clear();
  return out;
}

std::string ResponseBuilder::calls(const json::array& ollama_calls) {
  std::string out = close("completed");
  // Chat's conversion names each call (the node's id, or call_... derived like chat's).
  for (const auto& converted : detail::tool_calls(ollama_calls, ctx_, calls_, false)) {
    ++calls_;
    const json::object& call = converted.as_object();
    const json::object& fn = call.at("function").as_object();
    const size_t index = output_.size();
    json::object item{{"id", next_id("fc_")},
                      {"type", "function_call"},
                      {"status", "in_progress"},
                      {"call_id", call.at("id")},
                      {"name", fn.at("name")},
                      {"arguments", ""}};
    const json::value id = item["id"];
    const json::value arguments = fn.at("arguments");
    out += event("response.output_item.added", {{"output_index", index}, {"item", item}});
    out += event("response.function_call_arguments.delta",
                 {{"item_id", id}, {"output_index", index}, {"delta", arguments}});
    out += event("response.function_call_arguments.done",
                 {{"item_id", id}, {"output_index", index}, {"name", fn.at("name")}, {"arguments", arguments}});
    item["status"] = "completed";
    item["arguments"] = arguments;
    out += event("response.output_item.done", {{"output_index", index}, {"item", item}});
    output_.push_back(std::move(item));
  }
  return out;
}

std::string ResponseBuilder::end(const json::object& final_chunk) {
  const bool cut = string_field(final_chunk, "done_reason") == "length";
  std::string out;
  // Every response says something: one that produced nothing has an empty message.
  if (output_.empty() && open_ == Open::none) out += open(Open::message);
  out += close(cut ? "incomplete" : "completed");
  status_ = cut ? "incomplete" : "completed";
  if (cut) incomplete_ = json::object{{"reason", "max_output_tokens"}};
  usage_ = responses_usage(final_chunk);
  ended_ = true;
  out += event(cut ? "response.incomplete" : "response.completed", {{"response", response()}});
  return out;
}

std::string ResponseBuilder::chunk(const json::object& c, bool last) {
  if (ended_) return {};
  std::string out = start();
  if (const json::value* m = c.if_contains("message"); m && m->is_object()) {
    const json::object& msg = m->get_object();
    if (std::string thinking = string_field(msg, "thinking"); !thinking.empty()) {
      out += open(Open::reasoning);
      text_ += thinking;
      out += event("response.reasoning_summary_text.delta",
                   {{"item_id", open_id_}, {"output_index", output_.size()}, {"summary_index", 0}, {"delta", thinking}});
    }
    if (std::string content = string_field(msg, "content"); !content.empty()) {
      out += open(Open::message);
      text_ += content;
      out += event("response.output_text.delta", {{"item_id", open_id_},
                                                  {"output_index", output_.size()},
                                                  {"content_index", 0},
                                                  {"delta", content},
                                                  {"logprobs", json::array()}});
    }
    if (const json::value* tc = msg.if_contains("tool_calls"); tc && tc->is_array() && !tc->get_array().empty())
      out += calls(tc->get_array());
  }
  if (last) out += end(c);
  return out;
}

std::string ResponseBuilder::fail(const Error& e) {
  if (ended_) return {};
  std::string out = start();
  if (open_ != Open::none) output_.push_back(open_item("incomplete"));  // what the client already has
  open_ = Open::none;
  status_ = "failed";
  const json::value code = e.code ? json::value(*e.code) : json::value(e.type);
  error_ = json::object{{"code", code}, {"message", e.message}};
  ended_ = true;
  out += event("response.failed", {{"response", response()}});
  json::object fields{{"code", code},
                      {"message", e.message},
                      {"param", e.param ? json::value(*e.param) : json::value(nullptr)},
                      {"error", error_object(e).at("error")}};
  out += event("error", std::move(fields));
  return out;
}

json::object response_object(const json::object& reply, const ReplyContext& ctx) {
  ResponseBuilder builder(ctx);
  builder.chunk(reply, true);
  return builder.response();
}

}  // namespace hydra::api::openai
