#pragma once
// The models a simulated node has on disk, with the metadata Ollama reports for each.
#include "common/clock.hpp"
#include "common/model_name.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::sim {

struct ModelSpec {
  std::string name;  // normalised: always carries a tag ("llama3" -> "llama3:latest")
  uint64_t size = 0; // bytes on disk; also what it takes in memory once loaded
  std::string digest;
  std::string family;
  std::string parameter_size;      // "8.0B"
  std::string quantization_level;  // "Q4_K_M"
  WallTime modified_at;
  bool embedding_only = false;     // an embedding model cannot generate
};

using hydra::normalize_model_name;
// Whether `name` is a syntactically valid model name (namespace/model:tag).
bool valid_model_name(std::string_view name);

// Builds the full spec for a model. `size_gb` <= 0 means: estimate from the tag ("14b" ->
// about 0.6 GB per billion parameters at 4-bit), else 2 GB.
ModelSpec make_model_spec(std::string_view name, double size_gb, WallTime modified_at);

class Catalog {
public:
  const ModelSpec* find(std::string_view name) const;
  void put(ModelSpec spec);  // adds or replaces
  bool remove(std::string_view name);
  const std::vector<ModelSpec>& all() const { return models_; }

private:
  std::vector<ModelSpec> models_;
};

}  // namespace hydra::sim
