#include "sim/replies.hpp"

#include "common/hash.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hydra::sim {

namespace json = boost::json;

namespace {

constexpr std::string_view kWords[] = {
    "the",      "model",   "answers",  "with",     "a",        "simulated", "reply",   "from",
    "this",     "node",    "tokens",   "stream",   "one",      "by",        "fleet",   "request",
    "routing",  "memory",  "gpu",      "cluster",  "quickly",  "and",       "then",    "every",
    "result",   "is",      "ready",    "for",      "you",      "code",      "function", "returns",
    "value",    "list",    "server",   "client",   "which",    "moves",     "data",    "over",
    "network",  "latency", "slot",     "queue",    "balanced", "across",    "nodes",   "load",
    "prompt",   "context", "window",   "output",   "input",    "fast",      "steady",  "careful",
    "testing",  "works",   "as",       "expected", "here",     "again",     "now",     "done"};

ScriptRule make_rule(std::string pattern, std::string reply, const json::value* model,
                     const json::value* tps) {
  ScriptRule rule;
  try {
    rule.prompt = std::regex(pattern, std::regex::ECMAScript);
    if (model && model->is_string())
      rule.model = std::regex(std::string(model->get_string()), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::runtime_error("script: bad regex \"" + pattern + "\": " + e.what());
  }
  rule.pattern = std::move(pattern);
  rule.reply = std::move(reply);
  if (tps && tps->is_number()) rule.tokens_per_second = tps->to_number<double>();
  return rule;
}

// [{"name": "f", "arguments": {...}}, ...]
std::vector<ScriptToolCall> read_tool_calls(const json::value& v) {
  std::vector<ScriptToolCall> calls;
  const json::array* list = v.if_array();
  if (!list || list->empty()) throw std::runtime_error("script: \"tool_calls\" must be a non-empty list");
  for (const auto& item : *list) {
    const json::object* o = item.if_object();
    const json::value* name = o ? o->if_contains("name") : nullptr;
    const json::value* args = o ? o->if_contains("arguments") : nullptr;
    if (!name || !name->is_string() || (args && !args->is_object()))
      throw std::runtime_error("script: each tool call needs a string \"name\" and object \"arguments\"");
    calls.push_back({std::string(name->get_string()), args ? json::serialize(*args) : "{}"});
  }
  return calls;
}

}  // namespace

ReplyBook ReplyBook::from_json_text(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) throw std::runtime_error("script: invalid JSON: " + ec.message());
  std::vector<ScriptRule> rules;
  if (doc.is_object()) {
    for (const auto& [key, value] : doc.as_object()) {
      if (!value.is_string()) throw std::runtime_error("script: reply for \"" + std::string(key) + "\" must be a string");
      rules.push_back(make_rule(std::string(key), std::string(value.get_string()), nullptr, nullptr));
    }
  } else if (doc.is_array()) {
    for (const auto& item : doc.as_array()) {
      const json::object* o = item.if_object();
      const json::value* match = o ? o->if_contains("match") : nullptr;
      const json::value* reply = o ? o->if_contains("reply") : nullptr;
      const json::value* calls = o ? o->if_contains("tool_calls") : nullptr;
      if (!match || !match->is_string() || (reply ? !reply->is_string() : !calls))
        throw std::runtime_error("script: each entry needs string fields \"match\" and \"reply\" (or \"tool_calls\")");
      rules.push_back(make_rule(std::string(match->get_string()), reply ? std::string(reply->get_string()) : "",
                                o->if_contains("model"), o->if_contains("tokens_per_second")));
      rules.back().own_words = !reply;
      if (calls) rules.back().tool_calls = read_tool_calls(*calls);
    }
  } else {
    throw std::runtime_error("script: expected a JSON object or array");
  }
  return ReplyBook(std::move(rules));
}

ReplyBook ReplyBook::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("script: cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return from_json_text(buffer.str());
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  for (char c : text) {
    if ((c == ' ' || c == '\n') && !current.empty() && current.back() != ' ' && current.back() != '\n') {
      tokens.push_back(std::move(current));
      current.clear();
    }
    current += c;
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

Reply ReplyBook::reply(std::string_view node, std::string_view model, std::string_view prompt,
                       uint64_t seed) const {
  std::string prompt_s(prompt);
  std::string model_s(model);
  for (const auto& rule : rules_) {
    if (rule.model && !std::regex_search(model_s, *rule.model)) continue;
    if (!std::regex_search(prompt_s, rule.prompt)) continue;
    if (rule.own_words) {
      Reply own = words(node, model, prompt, seed);
      own.tool_calls = rule.tool_calls;
      return own;
    }
    return Reply{tokenize(rule.reply), rule.tokens_per_second, rule.tool_calls};
  }
  return words(node, model, prompt, seed);
}

Reply ReplyBook::words(std::string_view node, std::string_view model, std::string_view prompt, uint64_t seed) {
  // The words depend on model, prompt and seed only, not on the node: any node that has the
  // model says the same after its own name, so one node can go on where another stopped.
  SplitMix rng(fnv1a(prompt, fnv1a(model, seed ^ 0x5eedULL)));
  Reply out;
  out.tokens.push_back(std::string(node));
  out.tokens.push_back(":");
  const size_t count = 12 + rng.below(29);
  for (size_t i = 0; i < count; ++i) {
    std::string token = " ";
    token += kWords[rng.below(std::size(kWords))];
    out.tokens.push_back(std::move(token));
  }
  out.tokens.push_back(".");
  return out;
}

std::optional<std::vector<std::string>> rest_after(const Reply& reply, std::string_view partial, bool bare_tag) {
  std::string text;
  for (const auto& t : reply.tokens) text += t;
  std::size_t from = std::string::npos;
  // A partial of this node's own reply has its whole name at least: a raw prompt that merely
  // ends in "n" has not begun node "node-y"'s answer.
  const bool named = reply.tokens.size() > 1 && reply.tokens[1] == ":";
  const std::size_t least = named ? reply.tokens[0].size() : 1;
  if (partial.size() >= least && std::string_view(text).starts_with(partial)) {
    from = partial.size();
  } else if (!reply.tokens.empty()) {
    // Another node's tag: its name up to the first ':' or space stands for this node's name.
    const std::size_t tag = std::min(partial.find_first_of(": "), partial.size());
    const std::string_view body = partial.substr(tag);
    if (tag == 0 || (!bare_tag && !body.starts_with(':'))) return std::nullopt;
    for (char c : partial.substr(0, tag))  // a node's name: letters, digits, '.', '_', '-'
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return std::nullopt;
    const std::string_view own = std::string_view(text).substr(reply.tokens.front().size());
    if (own.starts_with(body)) from = reply.tokens.front().size() + body.size();
  }
  if (from == std::string::npos) return std::nullopt;
  std::vector<std::string> rest;
  std::size_t at = 0;
  for (const auto& t : reply.tokens) {
    const std::size_t end = at + t.size();
    if (end > from) rest.push_back(from > at ? t.substr(from - at) : t);
    at = end;
  }
  return rest;
}

std::vector<float> embed(std::string_view text, size_t dimensions) {
  std::vector<float> v(dimensions, 0.0f);
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    uint64_t h = fnv1a(word);
    v[h % dimensions] += (h >> 63) ? 1.0f : -1.0f;
    v[(h >> 20) % dimensions] += 0.5f;
    word.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else flush();
  }
  flush();
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

int count_tokens(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words + 1;
}

}  // namespace hydra::sim
