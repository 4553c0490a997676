#pragma once
// The prompt (KV) cache of one loaded model's slots, as Ollama's runner keeps it: each slot
// holds the tokens of the last request it served (prompt and reply), and only the part of a
// new prompt not found in the slot it takes is evaluated. Which slot, as the runner chooses:
//  - by default: the free slot whose tokens share the longest prefix with the prompt (the
//    least recently used when none shares any). Prompts that share a system prompt all take
//    the same slot one after another, each evicting the last one's conversation;
//  - multi-user (OLLAMA_MULTIUSER_CACHE=1, `hydra sim --multiuser-cache`): a free slot whose
//    whole content begins the prompt; else the least recently used free slot, with the
//    longest prefix any slot shares copied into it, so other conversations keep their caches.
// Pure; no I/O.
//
// Tokens are the sim's: one per whitespace-separated word (sim_tokens()), so a prompt's
// length is count_tokens() - 1 (the one more that count_tokens() reports is the start token,
// never cached, as Ollama always evaluates at least one token).
#include <cstdint>
#include <string_view>
#include <vector>

namespace hydra::sim {

using Tokens = std::vector<uint64_t>;

// Appends the tokens of `text` to `out`: one per word, the first one marked with `role` (so
// that "user: hi" and "assistant: hi" differ, as rendered chat templates do).
void append_tokens(Tokens& out, std::string_view role, std::string_view text);

class PromptCache {
public:
  explicit PromptCache(int slots, bool multiuser = false)
      : slots_(static_cast<std::size_t>(slots < 1 ? 1 : slots)), multiuser_(multiuser) {}

  struct Taken {
    int slot = -1;          // -1: every slot is busy (the caller holds a node slot, so rare)
    std::size_t reused = 0; // prompt tokens found in the slot's cache
  };
  // Takes a free slot for `prompt`, as the runner would.
  Taken take(const Tokens& prompt);
  // The slot is free again and caches `tokens` (what it evaluated: the prompt and the reply).
  void give_back(int slot, Tokens tokens);
  // The model was unloaded: every slot's cache is lost.
  void clear();

private:
  struct Slot {
    Tokens tokens;
    bool busy = false;
    uint64_t used = 0;  // when it was last taken (a counter)
  };
  Taken take_longest(const Tokens& prompt);
  Taken take_best(const Tokens& prompt);
  std::vector<Slot> slots_;
  bool multiuser_;
  uint64_t clock_ = 0;
};

}  // namespace hydra::sim
