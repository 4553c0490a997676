#include "api/continuation.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;

namespace {

const json::string* string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

bool has_content(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return false;
  if (const auto* s = v->if_string()) return !s->empty();
  if (const auto* a = v->if_array()) return !a->empty();
  return true;
}

// The fields of a generate request that a chat request takes as they are.
constexpr std::string_view kCarried[] = {"model", "options", "format", "keep_alive", "think"};

// Fields of the final chunk that describe one node's work only: left out after a switch.
constexpr std::string_view kOneNodeOnly[] = {"context", "total_duration", "load_duration", "prompt_eval_duration",
                                             "eval_duration"};

}  // namespace

bool continuable(const Upstream& upstream) {
  return upstream.method == http::bhttp::verb::post &&
         (upstream.target == "/api/chat" || upstream.target == "/api/generate");
}

// What is left of a positive num_predict once `tokens` went out (the client asked for that many
// in all); at least 1, since a reply that had reached it would have ended already.
void lower_num_predict(json::object& body, uint64_t tokens) {
  json::value* options = body.if_contains("options");
  json::value* n = options && options->is_object() ? options->get_object().if_contains("num_predict") : nullptr;
  if (!n || !n->is_number()) return;
  boost::system::error_code ec;
  const double wanted = n->to_number<double>(ec);
  if (ec || wanted <= 0) return;  // -1, -2: no limit, or fill the context
  *n = static_cast<int64_t>(std::max(1.0, wanted - static_cast<double>(tokens)));
}

// A chat's messages with the partial answer at the end: appended to the client's own trailing
// assistant message (a prefill, which the first node was continuing already), else a new one.
void add_partial(json::array& messages, std::string_view text, std::string_view thinking) {
  if (text.empty() && thinking.empty()) return;
  json::object* last = messages.empty() ? nullptr : messages.back().if_object();
  const json::value* role = last ? last->if_contains("role") : nullptr;
  if (role && role->is_string() && role->get_string() == "assistant") {
    for (auto [key, more] : {std::pair{"content", text}, std::pair{"thinking", thinking}}) {
      if (more.empty()) continue;
      json::value& field = (*last)[key];
      std::string joined = field.is_string() ? std::string(field.get_string()) : std::string();
      joined += more;
      field = joined;
    }
    return;
  }
  json::object partial{{"role", "assistant"}, {"content", text}};
  if (!thinking.empty()) partial["thinking"] = thinking;
  messages.push_back(std::move(partial));
}

FollowUp follow_up(const Upstream& original, std::string_view text, std::string_view thinking, uint64_t tokens) {
  FollowUp f;
  boost::system::error_code ec;
  json::value doc = json::parse(original.body, ec);
  json::object* body = ec ? nullptr : doc.if_object();
  if (!body) {
    f.why_not = "the request body is not a JSON object";
    return f;
  }
  if (has_content(*body, "context")) f.why_not = "the request carries a context";
  else if (has_content(*body, "template")) f.why_not = "the request has its own template";
  else if (has_content(*body, "suffix")) f.why_not = "the request has a suffix";
  if (!f.why_not.empty()) return f;

  lower_num_predict(*body, tokens);
  Upstream next{original.method, original.target, original.headers, {}};
  if (original.target == "/api/chat") {
    json::value* messages = body->if_contains("messages");
    if (!messages || !messages->is_array()) {
      f.why_not = "the request has no messages";
      return f;
    }
    add_partial(messages->as_array(), text, thinking);
    (*body)["stream"] = true;
    next.body = json::serialize(*body);
  } else if (const json::value* raw = body->if_contains("raw"); raw && raw->is_bool() && raw->get_bool()) {
    // A raw prompt is the whole text the model sees: the partial answer goes on its end.
    const json::string* prompt = string_at(*body, "prompt");
    (*body)["prompt"] = std::string(prompt ? std::string_view(*prompt) : std::string_view()) + std::string(text);
    (*body)["stream"] = true;
    next.body = json::serialize(*body);
  } else {
    // The model's template renders a generate request as a chat of system and user turns;
    // as a chat, it can end with the assistant's partial turn.
    json::object chat;
    for (std::string_view key : kCarried)
      if (const json::value* v = body->if_contains(key)) chat[key] = *v;
    json::array messages;
    if (const json::string* system = string_at(*body, "system"); system && !system->empty())
      messages.push_back(json::object{{"role", "system"}, {"content", *system}});
    json::object user{{"role", "user"}, {"content", string_at(*body, "prompt") ? *string_at(*body, "prompt") : ""}};
    if (const json::value* images = body->if_contains("images"); images && images->is_array()) user["images"] = *images;
    messages.push_back(std::move(user));
    add_partial(messages, text, thinking);
    chat["messages"] = std::move(messages);
    chat["stream"] = true;
    next.target = "/api/chat";
    next.body = json::serialize(chat);
    f.generate_as_chat = true;
  }
  f.upstream = std::move(next);
  return f;
}

void ContinuingSink::continue_with(Switch step, bool generate_as_chat) {
  switches_.push_back(std::move(step));
  generate_as_chat_ = generate_as_chat;
  tokens_before_ = tokens_;
  pending_.clear();  // half a line of the node that broke off never goes out
}

// Without a frame of its own when it only passes the call on (the common case).
awaitable<bool> ContinuingSink::begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                                      const Served& served) {
  if (!switches_.empty()) return refuse_continuation(status, std::move(content_type));
  take_head(status, content_type);
  return inner_.begin(status, std::move(content_type), length, served);
}

void ContinuingSink::take_head(int status, std::string_view content_type) {
  began_ = true;
  following_ = status == 200 && content_type.starts_with("application/x-ndjson");
}

std::optional<bool> ContinuingSink::begin_now(int status, std::string& content_type, std::optional<std::uint64_t> length,
                                              const Served& served) {
  if (!switches_.empty()) return std::nullopt;  // begin() judges the continuation's head
  take_head(status, content_type);
  return inner_.begin_now(status, content_type, length, served);
}

awaitable<bool> ContinuingSink::refuse_continuation(int status, std::string content_type) {
  // A continuation: the requester has had the head already; anything but a stream is a failure.
  if (status == 200 && content_type.starts_with("application/x-ndjson")) co_return false;
  failure_ = fmt::format("it answered the continuation with status {} and {}", status,
                         content_type.empty() ? "no content type" : content_type);
  co_return true;
}

void ContinuingSink::forget_text() {
  too_long_ = true;
  text_.clear();
  thinking_.clear();
}

void ContinuingSink::keep(std::string_view content, std::string_view thought, bool last) {
  if (!too_long_) {
    text_.append(content);
    thinking_.append(thought);
    if (text_.size() + thinking_.size() > limits_.reply_bytes) forget_text();
  }
  if (!last) ++tokens_;
  else done_ = true;
}

// A line of the first node's stream: read in one pass (read_stream_line). False for an error line.
bool ContinuingSink::take_own_line(std::string_view line) {
  if (read_stream_line(line, scan_)) {
    if (scan_.error) {
      failure_ = fmt::format("it sent an error: {}", scan_.error_string ? std::string_view(scan_.error_text)
                                                                        : std::string_view("(not a string)"));
      return false;
    }
    if (scan_.tool_calls) tool_call_ = true;
    keep(scan_.text, scan_.thinking, scan_.done);
  }
  return true;  // (a line that is not a reply line too: the requester's sink judges it)
}

bool ContinuingSink::take_line(std::string_view line) {
  if (switches_.empty()) {  // passed on as it came
    if (!take_own_line(line)) return false;
    out_.append(line);
    return true;
  }
  // A continuation's line, rewritten below: parsed into a tree.
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  json::object* o = ec ? nullptr : v.if_object();
  if (!o) {  // not a reply line: passed on as it came, the requester's sink judges it
    out_.append(line);
    return true;
  }
  if (const json::value* error = o->if_contains("error")) {
    const json::string* s = error->if_string();
    failure_ = fmt::format("it sent an error: {}", s ? std::string_view(*s) : std::string_view("(not a string)"));
    return false;
  }
  const json::value* done = o->if_contains("done");
  const bool last = done && done->is_bool() && done->get_bool();
  json::object* message = nullptr;
  if (json::value* m = o->if_contains("message")) message = m->if_object();
  const json::object& fields = message ? *message : *o;
  const json::string* content = string_at(fields, message ? "content" : "response");
  const json::string* thought = string_at(fields, "thinking");
  if (message && has_content(*message, "tool_calls")) tool_call_ = true;
  keep(content ? std::string_view(*content) : std::string_view(), thought ? std::string_view(*thought) : std::string_view(),
       last);

  // A continuation's line, in the shape of the stream the requester began with.
  if (generate_as_chat_ && message) {
    json::string response = content ? *content : json::string();
    json::value thinking = thought ? json::value(*thought) : json::value();
    o->erase("message");
    o->emplace("response", std::move(response));
    if (!thinking.is_null()) o->emplace("thinking", std::move(thinking));
  }
  if (last) {
    uint64_t own = 0;
    if (const json::value* n = o->if_contains("eval_count"); n && n->is_number()) {
      boost::system::error_code nec;
      own = n->to_number<uint64_t>(nec);
    }
    eval_count_ = tokens_before_ + own;
    (*o)["eval_count"] = eval_count_;
    for (std::string_view key : kOneNodeOnly) o->erase(key);
    json::array steps;
    for (const auto& s : switches_)
      steps.push_back(json::object{{"from", s.from}, {"to", s.to}, {"after_tokens", s.after_tokens}});
    (*o)["hydra"] = json::object{{"continued", std::move(steps)}};
  }
  out_ += json::serialize(*o);
  out_ += '\n';
  return true;
}

std::string_view ContinuingSink::take_piece(std::string_view bytes, bool& go_on) {
  out_.clear();
  // The first node's lines go on as they came: straight from the piece (its first `passed`
  // bytes, no copy) when no line of it began in an earlier piece; else through out_.
  const bool direct = switches_.empty() && pending_.empty();
  std::size_t passed = 0;
  go_on = true;
  std::string_view rest = bytes;
  while (go_on && !rest.empty()) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(rest);
      if (pending_.size() > limits_.line_bytes) {
        // Past limits.line_kb: the requester's sink refuses such a line; let it say so.
        following_ = false;
        if (direct) passed = bytes.size();  // what is pending is the rest of this piece
        else out_ += pending_;
        pending_.clear();
      }
      break;
    }
    const std::string_view line = rest.substr(0, nl + 1);
    if (direct) {
      go_on = take_own_line(line);
      if (go_on) passed += line.size();
    } else if (pending_.empty()) {
      go_on = take_line(line);
    } else {
      pending_.append(line);
      go_on = take_line(pending_);
      pending_.clear();
    }
    rest.remove_prefix(nl + 1);
  }
  if (done_) inner_.settled();
  return direct ? bytes.substr(0, passed) : std::string_view(out_);
}

// A piece of a stream it follows: read, then passed on at once when the requester's sink takes
// it so (one coroutine frame fewer per chunk, or two); true after an error line as well: the
// node is done for, the relay reads take_failure().
std::optional<bool> ContinuingSink::data_now(std::string_view bytes) {
  const bool body_ends = std::exchange(body_ends_, false);
  if (!following_) {
    if (body_ends) inner_.body_ends();
    return inner_.data_now(bytes);
  }
  bool go_on = true;
  const std::string_view out = take_piece(bytes, go_on);
  if (body_ends && done_ && go_on && pending_.empty()) inner_.body_ends();  // end_now() follows
  if (!out.empty()) {
    const std::optional<bool> gone = inner_.data_now(out);
    if (!gone) {  // data() finishes it
      unfinished_ = Unfinished{out, go_on};
      return std::nullopt;
    }
    if (*gone) return true;
  }
  return !go_on;
}

awaitable<bool> ContinuingSink::data(std::string_view bytes) {
  if (unfinished_) return finish();
  if (!following_) return inner_.data(bytes);  // not a stream: passed on without a frame
  return follow(bytes);
}

// Reads the member itself: with g++ 12 a coroutine called as finish(*std::exchange(unfinished_,
// std::nullopt)) never began.
awaitable<bool> ContinuingSink::finish() {
  const Unfinished piece = *unfinished_;
  unfinished_.reset();
  if (co_await inner_.data(piece.out)) co_return true;
  co_return !piece.go_on;
}

awaitable<bool> ContinuingSink::follow(std::string_view bytes) {
  bool go_on = true;
  const std::string_view out = take_piece(bytes, go_on);
  if (!out.empty() && co_await inner_.data(out)) co_return true;
  co_return !go_on;
}

awaitable<void> ContinuingSink::end() {
  if (!following_) return inner_.end();
  return end_following();
}

awaitable<void> ContinuingSink::end_following() {
  if (!pending_.empty()) {  // a last line without its newline
    out_.clear();
    std::string last = std::exchange(pending_, {});
    const bool fine = take_line(last);
    if (done_) inner_.settled();
    if (!out_.empty() && co_await inner_.data(out_)) co_return;
    if (!fine) co_return;
  }
  if (!ended_short()) co_await inner_.end();
}

bool ContinuingSink::ended_short() {
  if (done_) return false;
  if (failure_.empty()) failure_ = "its stream ended without a final chunk";
  return true;
}

bool ContinuingSink::end_now() {
  if (!following_) return inner_.end_now();
  if (!pending_.empty()) return false;  // end() reads the last line, which has no newline
  return ended_short() || inner_.end_now();
}

}  // namespace hydra::api
