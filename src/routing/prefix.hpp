#pragma once
// Prefix affinity: which node already holds the beginning of a prompt in its KV cache, so that
// a conversation's next turn goes where its last one was evaluated. Pure: no I/O, time passed in.
//
// The key. The prompt as rendered for the model (each message's role and text, in order; a
// generate request's system text and prompt) is cut into blocks of kPrefixBlock bytes, and
// each block is hashed together with the hash of the block before it, as llm-d does with
// token blocks. Equal hashes at place i mean equal text up to the end of block i, so two keys
// share a prefix exactly as long as their hashes agree, and where they stop agreeing is found
// by binary search. Bytes, not tokens: the gateway has no tokenizer; a token is taken as 4 bytes.
//
// The index. Ollama's runner keeps one cached sequence per slot, so the index keeps, per node
// and model, the last `slots` prompts sent there, and replaces the one the runner replaces
// with OLLAMA_MULTIUSER_CACHE=1 (the setting for a node that serves many conversations): a
// sequence the new prompt wholly extends (the conversation's last turn), else the least
// recently used one. A match is the longest prefix any of them shares (the runner copies it
// into the slot it takes). A radix tree of everything ever sent (SGLang's router) would
// promise prefixes a node with 1-4 slots has long overwritten. (Without the setting, the
// runner reuses one slot for all prompts that share a system prompt, and no router can keep
// their caches; README "Prefix affinity".)
// Bounded: slots x kPrefixMaxBlocks hashes per node and model, at most `max_entries` pairs
// (the least recently used go first). Forgotten when the node no longer holds the model (the
// caller's sweep, from /api/ps) or the request's keep_alive has passed since its last use.
#include "common/clock.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hydra::routing {

inline constexpr std::size_t kPrefixBlock = 64;        // bytes: ~16 tokens, llm-d's block size
inline constexpr std::size_t kPrefixMaxBlocks = 8192;  // 512 KiB of prompt (~128K tokens) at most
inline constexpr uint64_t kBytesPerToken = 4;

struct PrefixKey {
  std::vector<uint64_t> blocks;  // chained hashes of the whole blocks
  uint64_t bytes = 0;            // of the whole rendered prompt
  uint64_t tokens() const { return bytes / kBytesPerToken; }
  bool empty() const { return blocks.empty(); }
};

inline uint64_t prefix_tokens_of(std::size_t blocks) { return blocks * kPrefixBlock / kBytesPerToken; }

// Builds a key from a prompt's parts, in order.
class PrefixKeyBuilder {
public:
  void add(std::string_view role, std::string_view text);
  PrefixKey finish();

private:
  void feed(std::string_view bytes);
  PrefixKey key_;
  std::string block_;
  uint64_t chain_ = 0x6a09e667f3bcc908ULL;
};

// Blocks two keys share from the start.
std::size_t common_blocks(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

class PrefixIndex {
public:
  using Time = SteadyTime;
  explicit PrefixIndex(std::size_t max_entries = 4096) : max_entries_(max_entries) {}

  // Blocks of `key` that `node` holds for `model` (0: none, or its keep_alive has passed).
  std::size_t match(const std::string& node, const std::string& model, const PrefixKey& key, Time now) const;
  // The blocks of the prompt `key` would evict there: none when it wholly extends one the node
  // holds (its own last turn) or one of the node's `slots` holds nothing; else the least
  // recently used one's.
  std::size_t evicts(const std::string& node, const std::string& model, const PrefixKey& key, int slots,
                     Time now) const;
  // `node` was given `key`: it takes the place of a sequence it wholly extends, or of the least
  // recently used of `slots`. An empty key (a prompt too short to match) still takes a slot's
  // place. `keep_alive` < 0: kept while the node holds the model.
  void record(const std::string& node, const std::string& model, const PrefixKey& key, int slots, Nanos keep_alive,
              Time now);
  // Drops what expired, and the pairs `held(node, model)` says the node no longer holds.
  void sweep(Time now, const std::function<bool(const std::string& node, const std::string& model)>& held);

  std::size_t entries() const { return entries_.size(); }
  std::size_t sequences() const;

private:
  struct Sequence {
    std::vector<uint64_t> blocks;
    Time used;
  };
  struct Entry {
    std::string node, model;
    std::vector<Sequence> sequences;
    Time used;
    Time expires;
  };
  // Entries are found by "node\nmodel" (PairId in prefix.cpp), built without an allocation.
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Entry, IdHash, std::equal_to<>> entries_;
  std::size_t max_entries_;
};

// X-Hydra-Session: the node a conversation was last served on, while it is fresh. Bounded.
class SessionPins {
public:
  explicit SessionPins(std::size_t max = 65536, Nanos ttl = std::chrono::minutes(30)) : max_(max), ttl_(ttl) {}
  std::string node_of(const std::string& session, SteadyTime now) const;
  void served(const std::string& session, const std::string& node, SteadyTime now);
  std::size_t size() const { return pins_.size(); }

private:
  struct Pin {
    std::string node;
    SteadyTime at;
  };
  std::unordered_map<std::string, Pin> pins_;
  std::size_t max_;
  Nanos ttl_;
};

}  // namespace hydra::routing
