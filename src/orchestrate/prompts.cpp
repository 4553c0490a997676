#include "orchestrate/prompts.hpp"

#include <fmt/format.h>

namespace hydra::orchestrate {

std::string analyse_prompt(std::string_view task) {
  return fmt::format(
      "Classify the complexity of the task below.\n"
      "SIMPLE: one short answer from one model is enough (a fact, a definition, a small snippet).\n"
      "MODERATE: a few distinct parts that benefit from being worked out separately.\n"
      "COMPLEX: many interdependent parts (design, implementation, tests, review).\n"
      "Reply with exactly one word: SIMPLE, MODERATE or COMPLEX.\n\n"
      "Task:\n{}\n",
      task);
}

std::string decompose_prompt(std::string_view task, int max_subtasks) {
  return fmt::format(
      "Break the task below into at most {} sub-tasks that different models can work on in parallel.\n"
      "Reply with a JSON array only, no prose. Each element is an object:\n"
      "  {{\"id\": 1, \"description\": \"what to do, self-contained\", "
      "\"model_type\": \"code\" | \"reasoning\" | \"general\", \"dependencies\": [ids it needs first]}}\n"
      "Use \"code\" for writing or reviewing code, \"reasoning\" for design, analysis and maths, "
      "\"general\" for everything else. List dependencies only where a sub-task needs another's result; "
      "independent sub-tasks run at the same time.\n\n"
      "Task:\n{}\n",
      max_subtasks, task);
}

std::string subtask_prompt(std::string_view task, std::string_view description,
                           const std::vector<DependencyResult>& dependencies) {
  std::string out = fmt::format(
      "You are doing one part of a larger task; other parts are done separately.\n\n"
      "Overall task:\n{}\n\n"
      "Sub-task: {}\n",
      task, description);
  if (!dependencies.empty()) {
    out += "\nThis part builds on earlier parts:\n";
    for (const auto& dep : dependencies) {
      if (dep.ok) out += fmt::format("\nResult of sub-task {}:\n{}\n", dep.id, dep.output);
      else out += fmt::format("\nSub-task {} failed: {}\nWork without its result.\n", dep.id, dep.error);
    }
  }
  out += "\nDo only this part, completely. Reply with the result itself.\n";
  return out;
}

std::string simple_prompt(std::string_view task) {
  return fmt::format("Answer the task directly and completely.\n\nTask:\n{}\n", task);
}

std::string synthesis_prompt(std::string_view task, const std::vector<SubtaskOutcome>& outcomes) {
  std::string out = fmt::format(
      "Combine the results below into one complete, coherent answer to the original task. "
      "Resolve contradictions, keep the best of each part, fill gaps a failed part left, and do not "
      "mention the parts themselves.\n\n"
      "Original task:\n{}\n",
      task);
  for (const auto& o : outcomes) {
    if (o.ok) out += fmt::format("\n--- Part {} ({}) ---\n{}\n", o.id, o.description, o.output);
    else out += fmt::format("\n--- Part {} ({}) --- failed: {}\n", o.id, o.description, o.error);
  }
  return out;
}

}  // namespace hydra::orchestrate
