#pragma once
// Model roles (light, heavy, code, reasoning, general) and how a role finds a model the fleet
// actually has: the configured one, else the closest available (same family first, then the
// nearest parameter size, then alphabetical). Pure functions; the engine records each fallback.
#include "orchestrate/settings.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::orchestrate {

enum class Role { light, heavy, code, reasoning, general };
inline constexpr std::size_t kRoleCount = 5;

std::string_view role_name(Role role);
const std::string& role_model(const Settings& s, Role role);
const std::vector<std::string>& role_extras(const Settings& s, Role role);  // empty for light/heavy

// Parameter count in billions from a model name: "qwen3:14b" -> 14, "qwen3:1.7b" -> 1.7,
// "x:500m" -> 0.5, "mixtral:8x7b" -> 56, "gemma3n:e2b" -> 2. The tag is read before the name.
std::optional<double> parameter_size_b(std::string_view model);

// The part before the last ':' of the normalised name ("qwen2.5-coder:14b" -> "qwen2.5-coder").
std::string model_family(std::string_view model);

// `available` ordered by closeness to `wanted`: the same model first (names compared after
// normalisation, so "llama3" matches "llama3:latest"), then models of the same family, then the
// rest; within each group by nearest parameter size (absolute difference in billions; models
// without a size after those with one), then by name. Deterministic; duplicates removed.
std::vector<std::string> rank_by_closeness(std::string_view wanted, const std::vector<std::string>& available);

// The closest available model to `wanted` (the head of rank_by_closeness), or nullopt when
// nothing is available.
std::optional<std::string> closest_model(std::string_view wanted, const std::vector<std::string>& available);

// A role (or a model a request named) that had to use another model than the one asked for.
struct RoleFallback {
  std::string role;  // "light", ... or "request" for a model listed in a request's `models`
  std::string wanted;
  std::string used;
};

// The model each role uses for one run.
struct RoleModels {
  std::array<std::string, kRoleCount> model;  // indexed by Role
  std::vector<RoleFallback> fallbacks;
  std::string error;  // non-empty: no model available at all
  const std::string& of(Role r) const { return model[static_cast<std::size_t>(r)]; }
};

RoleModels resolve_roles(const Settings& s, const std::vector<std::string>& available);

// The models a sub-task of `role` asks when fanning out to n: the role's resolved model, then
// its extras that are available, then the other available models closest to the role's model;
// distinct, at most n (fewer when fewer models are available).
std::vector<std::string> fanout_models(const Settings& s, const RoleModels& roles, Role role, int n,
                                       const std::vector<std::string>& available);

// Models a request listed, each mapped to itself when available or else to the closest
// available model (recorded in `fallbacks` with role "request"); distinct, order kept.
std::vector<std::string> resolve_request_models(const std::vector<std::string>& wanted,
                                                const std::vector<std::string>& available,
                                                std::vector<RoleFallback>& fallbacks);

// The request's models for the sub-task at `index` (plan order): n of them taken round-robin
// starting at index % size, so consecutive sub-tasks start on different models.
std::vector<std::string> rotate_models(const std::vector<std::string>& models, std::size_t index, int n);

}  // namespace hydra::orchestrate
