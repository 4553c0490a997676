#pragma once
// The prompts the orchestrator sends. Pure functions of their inputs.
//
// Each prompt carries one fixed marker phrase that no other prompt contains, so scripted test
// nodes (`hydra sim` replies chosen by a regex on the prompt) can tell the steps apart. Keep
// these phrases stable:
//   analyse     "Classify the complexity"
//   decompose   "Break the task"
//   sub-task    "Sub-task:"   (then the description verbatim on the same line, and for each
//                              dependency a line "Result of sub-task <id>:" followed by its
//                              output verbatim, or "Sub-task <id> failed:" and its error)
//   simple      "Answer the task directly"   (the SIMPLE path's single call)
//   synthesis   "Combine the results"
// The task itself is quoted verbatim in every prompt, so a task that contains a marker phrase
// will match more than one step; that is the test author's business.
#include "orchestrate/plan.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace hydra::orchestrate {

// What a dependency produced, as a dependent sub-task sees it.
struct DependencyResult {
  std::string id;
  std::string description;
  bool ok = true;
  std::string output;  // when ok
  std::string error;   // when !ok
};

// What a finished sub-task contributes to the synthesis.
struct SubtaskOutcome {
  std::string id;
  std::string description;
  bool ok = true;
  std::string output;
  std::string error;
};

std::string analyse_prompt(std::string_view task);
std::string decompose_prompt(std::string_view task, int max_subtasks);
std::string subtask_prompt(std::string_view task, std::string_view description,
                           const std::vector<DependencyResult>& dependencies);
std::string simple_prompt(std::string_view task);
std::string synthesis_prompt(std::string_view task, const std::vector<SubtaskOutcome>& outcomes);

}  // namespace hydra::orchestrate
