#include "sim/catalog.hpp"

#include "common/hash.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>

namespace hydra::sim {

bool valid_model_name(std::string_view name) {
  if (name.empty() || name.size() > 350) return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '/')) return false;
  return std::isalnum(static_cast<unsigned char>(name.front())) != 0;
}

namespace {

// "qwen2.5-coder:14b" -> 14.0; "llama3.2:1b-instruct" -> 1.0; nothing -> nullopt.
std::optional<double> billions_from_tag(std::string_view name) {
  auto colon = name.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view tag = name.substr(colon + 1);
  size_t i = 0;
  while (i < tag.size() && (std::isdigit(static_cast<unsigned char>(tag[i])) || tag[i] == '.')) ++i;
  if (i == 0 || i >= tag.size() || (tag[i] != 'b' && tag[i] != 'B')) return std::nullopt;
  try {
    return std::stod(std::string(tag.substr(0, i)));
  } catch (...) {
    return std::nullopt;
  }
}

std::string family_of(std::string_view name) {
  std::string base(name.substr(0, name.find(':')));
  if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  std::string family;
  for (char c : base) {
    if (std::isalpha(static_cast<unsigned char>(c))) family += c;
    else break;
  }
  return family.empty() ? "llama" : family;
}

}  // namespace

ModelSpec make_model_spec(std::string_view name, double size_gb, WallTime modified_at) {
  ModelSpec spec;
  spec.name = normalize_model_name(name);
  auto billions = billions_from_tag(spec.name);
  if (size_gb <= 0) size_gb = billions ? *billions * 0.6 : 2.0;
  spec.size = static_cast<uint64_t>(size_gb * 1e9);
  if (!billions) billions = size_gb / 0.6;
  spec.parameter_size = fmt::format("{:.1f}B", *billions);
  spec.quantization_level = "Q4_K_M";
  spec.family = family_of(spec.name);
  spec.digest = pseudo_digest(spec.name);
  spec.modified_at = modified_at;
  spec.embedding_only = spec.name.find("embed") != std::string::npos;
  return spec;
}

const ModelSpec* Catalog::find(std::string_view name) const {
  std::string wanted = normalize_model_name(name);
  for (const auto& m : models_)
    if (m.name == wanted) return &m;
  return nullptr;
}

void Catalog::put(ModelSpec spec) {
  for (auto& m : models_) {
    if (m.name == spec.name) {
      m = std::move(spec);
      return;
    }
  }
  models_.push_back(std::move(spec));
}

bool Catalog::remove(std::string_view name) {
  std::string wanted = normalize_model_name(name);
  auto it = std::find_if(models_.begin(), models_.end(), [&](auto& m) { return m.name == wanted; });
  if (it == models_.end()) return false;
  models_.erase(it);
  return true;
}

}  // namespace hydra::sim
