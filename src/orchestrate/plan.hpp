#pragma once
// A plan: the sub-tasks a task is broken into, read from a model's reply. Models wrap JSON in
// prose, fences and objects and get ids and dependencies wrong, so the parser is forgiving and
// always yields a runnable plan (a DAG with at least one sub-task). Pure.
#include <string>
#include <string_view>
#include <vector>

namespace hydra::orchestrate {

enum class ModelType { code, reasoning, general };

std::string_view model_type_name(ModelType t);  // "code", "reasoning", "general"
// Case-insensitive; also "coding"/"coder"/"programming" -> code, "reason"/"math"/"analysis"/
// "planning" -> reasoning. Anything else -> general.
ModelType parse_model_type(std::string_view s);

struct SubtaskSpec {
  std::string id;  // as the model wrote it ("1", "parse"); numbers become their decimal text
  std::string description;
  ModelType model_type = ModelType::general;
  std::vector<std::string> dependencies;  // ids of sub-tasks listed in the same plan
};

struct Plan {
  std::vector<SubtaskSpec> subtasks;
  bool fallback = false;           // the reply held no usable list: one sub-task = the task
  std::vector<std::string> notes;  // what the parser repaired, for logs and tests
};

// The plan in a decomposition reply. Where the list is looked for, in order: inside ```
// fences, then anywhere in the text (the first JSON value that holds a list of sub-tasks).
// Accepted shapes: a list; an object wrapping it under "subtasks"/"sub_tasks"/"tasks"/"steps"/
// "plan" (or its only list of objects); a single sub-task object. Elements are objects (fields
// "description", else "task"/"title"/"name"/"prompt"; "id"; "model_type" or "type";
// "dependencies" or "depends_on"/"deps") or plain strings (descriptions). Ids may be numbers
// or strings; a missing or repeated id becomes the element's 1-based position. Elements after
// the first `max_subtasks` are dropped. Dependencies are then cleaned (dag.hpp). A reply
// without any usable sub-task gives single_subtask_plan(task).
Plan parse_plan(std::string_view reply, std::string_view task, int max_subtasks);

// One general sub-task (id "1") whose description is the task itself.
Plan single_subtask_plan(std::string_view task);

}  // namespace hydra::orchestrate
