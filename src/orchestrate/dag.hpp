#pragma once
// Making a plan's dependencies a DAG the executor can run, and checking one. Pure.
#include "orchestrate/plan.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace hydra::orchestrate {

// Drops dependencies on unknown ids, on the sub-task itself, and repeated ones; each drop is
// described in `notes`.
void clean_dependencies(std::vector<SubtaskSpec>& subtasks, std::vector<std::string>& notes);

// Breaks every cycle. Dependencies on sub-tasks listed earlier are always kept (they cannot form
// a cycle among themselves); a dependency on a sub-task listed later is kept only if it does not
// close a cycle with the dependencies kept so far (taken in list order). So a plan written in
// execution order keeps all its edges, and in a cycle the edge pointing forward in the list is
// the one dropped. Each drop is described in `notes`.
void break_cycles(std::vector<SubtaskSpec>& subtasks, std::vector<std::string>& notes);

// Indices of each sub-task's dependencies (unknown ids ignored).
std::vector<std::vector<std::size_t>> dependency_indices(const std::vector<SubtaskSpec>& subtasks);

bool is_acyclic(const std::vector<SubtaskSpec>& subtasks);

}  // namespace hydra::orchestrate
