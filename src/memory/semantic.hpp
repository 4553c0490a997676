#pragma once
// The cache's semantic tier (opt-in, cache.semantic.*): a question worded differently from one
// already answered finds that answer when their embeddings are close enough (cosine at least
// cache.semantic.threshold). Only single-turn questions take part, and only within one scope:
// the same family, model and digest, options, system prompt, format and namespace, so nothing
// but the wording of the question differs. The index is exact cosine search over normalised
// vectors, per scope, bounded in entries (oldest dropped first); any thread may use it.
#include "memory/key.hpp"

#include <boost/json/object.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hydra::memory {

struct SemanticQuestion {
  std::string text;   // what is embedded: the prompt, or the one user message
  std::string scope;  // hash of everything else (the key of the request with that text blanked)
};
// nullopt: not a single-turn text question (a conversation, images, tools, a generate context).
std::optional<SemanticQuestion> semantic_question(const KeyInput& in);

class SemanticIndex {
public:
  explicit SemanticIndex(std::size_t max_entries) : max_entries_(max_entries) {}

  struct Match {
    std::string key;   // the exact cache key of the answer
    double similarity = 0;
  };
  // The closest entry of `scope` at `threshold` or above.
  std::optional<Match> nearest(const std::string& scope, const std::vector<float>& vector, double threshold) const;
  // Adds an answered question (the vector is normalised here); the oldest entry goes beyond the bound.
  void add(const std::string& scope, std::string key, std::string model, std::vector<float> vector);
  std::size_t erase(const std::string& model = {});  // "" = all
  std::size_t size() const;

private:
  struct Item {
    std::string scope, key, model;
    std::vector<float> vector;
  };
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::deque<Item> items_;  // oldest first
  std::unordered_set<std::string> keys_;  // those of items_
};

}  // namespace hydra::memory
