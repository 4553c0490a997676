#pragma once
// Reading the light model's verdict on a task: SIMPLE, MODERATE or COMPLEX. Pure.
#include <optional>
#include <string>
#include <string_view>

namespace hydra::orchestrate {

enum class Complexity { simple, moderate, complex };

std::string_view complexity_name(Complexity c);  // "SIMPLE", "MODERATE", "COMPLEX"

// A reply without its <think>...</think> blocks (qwen3 and deepseek-r1 think out loud; the
// answer follows the block). An unterminated <think> loses only the tag itself.
std::string strip_thinking(std::string_view reply);

// strip_thinking for a reply that arrives in pieces (a tag may be split between two): what
// feed() and then finish() return, joined, equals strip_thinking of the whole reply. Text of
// a block still open is held back until its end (or finish()).
class ThinkFilter {
public:
  std::string feed(std::string_view piece);
  std::string finish();

private:
  std::string pending_;  // undecided: a possible start of a tag, or the inside of a block
  bool inside_ = false;
};

// The complexity a reply names. Words are matched whole and case-insensitively; a word right
// after "not" (or a word ending in "n't") does not count; when some matches are upper case (the
// prompt asks for upper case) only those count. A reply that starts with a verdict gives it;
// otherwise the last verdict wins (models conclude at the end). Nothing found -> MODERATE.
Complexity parse_complexity(std::string_view reply);

}  // namespace hydra::orchestrate
