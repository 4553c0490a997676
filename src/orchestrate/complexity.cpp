#include "orchestrate/complexity.hpp"

#include <array>
#include <cctype>
#include <vector>

namespace hydra::orchestrate {

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)); }
// Apostrophes belong to words when looking for "isn't"/"doesn't" before a verdict.
bool word_char(char c) { return alnum(c) || c == '\''; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The word before position `pos` (lower case), skipping spaces and punctuation.
std::string previous_word(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end > 0 && !word_char(text[end - 1])) --end;
  std::size_t start = end;
  while (start > 0 && word_char(text[start - 1])) --start;
  return lower(text.substr(start, end - start));
}

bool negated(std::string_view text, std::size_t pos) {
  std::string w = previous_word(text, pos);
  if (w == "not" || w == "never") return true;
  return w.size() > 3 && w.compare(w.size() - 3, 3, "n't") == 0;
}

struct Match {
  Complexity verdict;
  std::size_t pos;
  bool upper;
};

}  // namespace

std::string_view complexity_name(Complexity c) {
  switch (c) {
    case Complexity::simple: return "SIMPLE";
    case Complexity::moderate: return "MODERATE";
    case Complexity::complex: return "COMPLEX";
  }
  return "MODERATE";
}

std::string ThinkFilter::feed(std::string_view piece) {
  static constexpr std::string_view kOpen = "<think>", kClose = "</think>";
  pending_.append(piece);
  std::string out;
  for (;;) {
    if (inside_) {
      auto close = pending_.find(kClose);
      if (close == std::string::npos) return out;  // all of it may still be thinking
      pending_.erase(0, close + kClose.size());
      inside_ = false;
      continue;
    }
    auto open = pending_.find(kOpen);
    if (open != std::string::npos) {
      out.append(pending_, 0, open);
      pending_.erase(0, open + kOpen.size());
      inside_ = true;
      continue;
    }
    // Hold back a tail that may be the start of "<think>".
    std::size_t keep = 0;
    for (std::size_t k = std::min(pending_.size(), kOpen.size() - 1); k > 0; --k)
      if (std::string_view(pending_).substr(pending_.size() - k) == kOpen.substr(0, k)) {
        keep = k;
        break;
      }
    out.append(pending_, 0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return out;
  }
}

std::string ThinkFilter::finish() {
  // A block never closed keeps its text (as strip_thinking does); a held-back tail is text.
  std::string out = inside_ ? strip_thinking(pending_) : pending_;
  pending_.clear();
  inside_ = false;
  return out;
}

std::string strip_thinking(std::string_view reply) {
  std::string out;
  std::size_t pos = 0;
  while (pos < reply.size()) {
    auto open = reply.find("<think>", pos);
    if (open == std::string_view::npos) break;
    out.append(reply.substr(pos, open - pos));
    auto close = reply.find("</think>", open);
    if (close == std::string_view::npos) {
      pos = open + 7;  // unterminated: keep what follows the tag
      continue;
    }
    pos = close + 8;
  }
  if (pos < reply.size()) out.append(reply.substr(pos));
  return out;
}

Complexity parse_complexity(std::string_view reply) {
  const std::string text = strip_thinking(reply);
  const std::string low = lower(text);
  static constexpr std::array<std::pair<std::string_view, Complexity>, 3> kWords{{
      {"simple", Complexity::simple}, {"moderate", Complexity::moderate}, {"complex", Complexity::complex}}};
  std::vector<Match> matches;
  for (const auto& [word, verdict] : kWords) {
    for (auto pos = low.find(word); pos != std::string::npos; pos = low.find(word, pos + 1)) {
      bool starts = pos == 0 || !alnum(low[pos - 1]);
      bool ends = pos + word.size() == low.size() || !alnum(low[pos + word.size()]);
      if (!starts || !ends || negated(text, pos)) continue;
      bool upper = true;
      for (std::size_t i = 0; i < word.size(); ++i)
        upper = upper && std::isupper(static_cast<unsigned char>(text[pos + i]));
      matches.push_back({verdict, pos, upper});
    }
  }
  if (matches.empty()) return Complexity::moderate;
  bool any_upper = false;
  for (const auto& m : matches) any_upper = any_upper || m.upper;
  const Match* first = nullptr;
  const Match* last = nullptr;
  for (const auto& m : matches) {
    if (any_upper && !m.upper) continue;
    if (!first || m.pos < first->pos) first = &m;
    if (!last || m.pos > last->pos) last = &m;
  }
  bool leads = text.find_first_not_of(" \t\r\n*#:\"'`-") == first->pos;
  return leads ? first->verdict : last->verdict;
}

}  // namespace hydra::orchestrate
