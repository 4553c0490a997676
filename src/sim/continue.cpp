// How the sim goes on with a partial answer; shared by the Ollama and llama-server emulations.
#include "sim/continue.hpp"

#include <cctype>

namespace hydra::sim {

namespace {

// A reply without the node's name in front: how the sim answers a trailing assistant text
// that is not the start of its own reply (it goes on with it, not with a new turn).
Reply words_only(Reply r) {
  if (r.tokens.size() > 2 && r.tokens[1] == ":") r.tokens.erase(r.tokens.begin(), r.tokens.begin() + 2);
  return r;
}

// The reply that the end of `text` already began, if any: where the asked part ends and the
// answer begins is unknown, so the last 2,048 places are tried, the earliest first (a longer
// answer so far is likelier than a short end that happens to fit). The answer is this node's
// reply (another node's name in front, with its ':'), or the words of one without a name.
std::optional<Reply> continued_from(const ReplyBook& book, const std::string& name, const std::string& model,
                                    std::string_view text, uint64_t seed) {
  const std::size_t from = text.size() > 2048 ? text.size() - 2048 : 1;
  // A reply that starts with a node's name: the shortest end first (a name is one word, so the
  // latest place where one fits is where the answer began).
  for (std::size_t i = text.size(); i-- > from;) {
    // A name begins a word: "z:" inside "node-z:" is not where an answer began.
    const unsigned char before = static_cast<unsigned char>(text[i - 1]);
    if (std::isalnum(before) || before == '.' || before == '_' || before == '-') continue;
    Reply whole = book.reply(name, model, text.substr(0, i), seed);
    if (auto rest = rest_after(whole, text.substr(i), false)) {
      whole.tokens = std::move(*rest);
      return whole;
    }
  }
  // Words without a name (the sim's own going-on of someone else's text): the longest first.
  for (std::size_t i = from; i < text.size(); ++i) {
    Reply words = words_only(book.reply(name, model, text.substr(0, i), seed));
    if (auto rest = rest_after(words, text.substr(i), false)) {
      words.tokens = std::move(*rest);
      return words;
    }
  }
  return std::nullopt;
}

}  // namespace

Reply continued_reply(const ReplyBook& book, const std::string& name, const std::string& model,
                      const std::string& prompt, const std::string& partial, bool raw, uint64_t seed) {
  if (!partial.empty()) {
    Reply whole = book.reply(name, model, prompt, seed);
    if (auto rest = rest_after(whole, partial, true)) {
      whole.tokens = std::move(*rest);
      return whole;
    }
    const std::string asked = prompt + "\n";
    if (auto own = continued_from(book, name, model, asked + partial, seed)) return *own;
    return words_only(book.reply(name, model, asked + partial, seed));
  }
  if (raw)
    if (auto own = continued_from(book, name, model, prompt, seed)) return *own;
  return book.reply(name, model, prompt, seed);
}


}  // namespace hydra::sim
