#include "orchestrate/dag.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unordered_map>

namespace hydra::orchestrate {

namespace {

std::unordered_map<std::string, std::size_t> index_of(const std::vector<SubtaskSpec>& subtasks) {
  std::unordered_map<std::string, std::size_t> out;
  for (std::size_t i = 0; i < subtasks.size(); ++i) out.emplace(subtasks[i].id, i);
  return out;
}

// Whether `to` is reachable from `from` following dependency edges.
bool reaches(const std::vector<std::vector<std::size_t>>& edges, std::size_t from, std::size_t to) {
  std::vector<char> seen(edges.size(), 0);
  std::vector<std::size_t> stack{from};
  while (!stack.empty()) {
    std::size_t u = stack.back();
    stack.pop_back();
    if (u == to) return true;
    if (seen[u]) continue;
    seen[u] = 1;
    for (std::size_t d : edges[u]) stack.push_back(d);
  }
  return false;
}

}  // namespace

void clean_dependencies(std::vector<SubtaskSpec>& subtasks, std::vector<std::string>& notes) {
  auto index = index_of(subtasks);
  for (auto& st : subtasks) {
    std::vector<std::string> kept;
    for (auto& dep : st.dependencies) {
      if (!index.count(dep)) {
        notes.push_back(fmt::format("sub-task {}: dropped dependency on unknown id {}", st.id, dep));
      } else if (dep == st.id) {
        notes.push_back(fmt::format("sub-task {}: dropped dependency on itself", st.id));
      } else if (std::find(kept.begin(), kept.end(), dep) != kept.end()) {
        notes.push_back(fmt::format("sub-task {}: dropped repeated dependency on {}", st.id, dep));
      } else {
        kept.push_back(std::move(dep));
      }
    }
    st.dependencies = std::move(kept);
  }
}

void break_cycles(std::vector<SubtaskSpec>& subtasks, std::vector<std::string>& notes) {
  auto index = index_of(subtasks);
  const std::size_t n = subtasks.size();
  std::vector<std::vector<std::size_t>> edges(n);
  std::vector<std::vector<char>> keep(n);
  for (std::size_t u = 0; u < n; ++u) {
    keep[u].assign(subtasks[u].dependencies.size(), 0);
    for (std::size_t k = 0; k < subtasks[u].dependencies.size(); ++k) {
      auto it = index.find(subtasks[u].dependencies[k]);
      if (it != index.end() && it->second < u) {
        edges[u].push_back(it->second);
        keep[u][k] = 1;
      }
    }
  }
  for (std::size_t u = 0; u < n; ++u) {
    for (std::size_t k = 0; k < subtasks[u].dependencies.size(); ++k) {
      auto it = index.find(subtasks[u].dependencies[k]);
      if (it == index.end() || it->second <= u) continue;
      if (reaches(edges, it->second, u)) {
        notes.push_back(fmt::format("sub-task {}: dropped dependency on {} (it closed a cycle)", subtasks[u].id,
                                    subtasks[u].dependencies[k]));
        continue;
      }
      edges[u].push_back(it->second);
      keep[u][k] = 1;
    }
  }
  for (std::size_t u = 0; u < n; ++u) {
    std::vector<std::string> kept;
    for (std::size_t k = 0; k < subtasks[u].dependencies.size(); ++k)
      if (keep[u][k]) kept.push_back(std::move(subtasks[u].dependencies[k]));
    subtasks[u].dependencies = std::move(kept);
  }
}

std::vector<std::vector<std::size_t>> dependency_indices(const std::vector<SubtaskSpec>& subtasks) {
  auto index = index_of(subtasks);
  std::vector<std::vector<std::size_t>> out(subtasks.size());
  for (std::size_t u = 0; u < subtasks.size(); ++u)
    for (const auto& dep : subtasks[u].dependencies)
      if (auto it = index.find(dep); it != index.end()) out[u].push_back(it->second);
  return out;
}

bool is_acyclic(const std::vector<SubtaskSpec>& subtasks) {
  auto edges = dependency_indices(subtasks);
  for (std::size_t u = 0; u < edges.size(); ++u)
    for (std::size_t d : edges[u])
      if (reaches(edges, d, u)) return false;
  return true;
}

}  // namespace hydra::orchestrate
