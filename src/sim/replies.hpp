#pragma once
// What a simulated node says: deterministic text from (model, prompt, seed) after the node's
// name, scripted replies for tests and demos, and bag-of-words embeddings.
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::sim {

// A call of a function tool that a scripted reply makes, when the request offers that tool.
struct ScriptToolCall {
  std::string name;
  std::string arguments;  // JSON object text
};

struct ScriptRule {
  std::string pattern;        // ECMAScript regex searched in the prompt
  std::regex prompt;
  std::optional<std::regex> model;  // only for matching model names, when set
  std::string reply;
  bool own_words = false;      // no "reply" given: the node's own words
  std::optional<double> tokens_per_second;  // overrides the node's rate for this reply
  std::vector<ScriptToolCall> tool_calls;
};

struct Reply {
  std::vector<std::string> tokens;
  std::optional<double> tokens_per_second;
  // What the reply calls instead of answering in words, if the request offers every tool
  // named here and is not itself answering a call (handlers_generate decides).
  std::vector<ScriptToolCall> tool_calls;
};

class ReplyBook {
public:
  ReplyBook() = default;
  explicit ReplyBook(std::vector<ScriptRule> rules) : rules_(std::move(rules)) {}

  // Reads a script: a JSON object {"regex": "reply", ...} or a list of
  // {"match": regex, "reply": text, "model": regex?, "tokens_per_second": n?,
  //  "tool_calls": [{"name", "arguments": {...}}]?} ("reply" may be left out when
  // "tool_calls" is given: the node's own words are the reply when it does not call).
  // Throws std::runtime_error with a readable message (start-up only).
  static ReplyBook from_json_text(std::string_view text);
  static ReplyBook from_file(const std::string& path);

  Reply reply(std::string_view node, std::string_view model, std::string_view prompt,
              uint64_t seed) const;
  size_t size() const { return rules_.size(); }

private:
  // The node's name and deterministic words from (model, prompt, seed).
  static Reply words(std::string_view node, std::string_view model, std::string_view prompt, uint64_t seed);

  std::vector<ScriptRule> rules_;
};

// Where `reply` goes on from an assistant's partial answer (a trailing assistant message, or
// text appended to a raw prompt): the tokens still to come, the first one cut where the partial
// ends inside it. The partial may carry another node's name where the reply has this node's
// ("other: w1" goes on as " w2 ..." from "this: w1 w2 ..."), or, with `bare_tag`, be that name
// alone ("other" goes on as ": w1 ..."). nullopt: not how this reply starts.
std::optional<std::vector<std::string>> rest_after(const Reply& reply, std::string_view partial, bool bare_tag);

// Splits text into tokens the way a streamed reply arrives: words with their leading space.
std::vector<std::string> tokenize(std::string_view text);

// Deterministic embedding: hashed bag of lower-cased words, L2-normalised, so texts that share
// words get close vectors.
std::vector<float> embed(std::string_view text, size_t dimensions = 384);

// Rough token count of a prompt, as reported in prompt_eval_count.
int count_tokens(std::string_view text);

}  // namespace hydra::sim
