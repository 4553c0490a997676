#pragma once
// The record of one orchestration run: what was asked, the plan, every sub-task's outcome per
// model, the synthesised answer, timings. The engine owns and fills it; to_json() is the one
// shape clients, the store and the `done` event see.
#include "orchestrate/complexity.hpp"
#include "orchestrate/plan.hpp"
#include "orchestrate/roles.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hydra::orchestrate {

enum class RunStatus { running, done, failed };
enum class SubtaskStatus { pending, running, done, failed };

std::string_view status_name(RunStatus s);
std::string_view status_name(SubtaskStatus s);

// One model's answer to a sub-task (a sub-task fanned out to N models has N).
struct ModelResult {
  std::string model;
  std::string node_id;
  std::string output;
  bool ok = false;
  std::string error;
};

struct SubtaskRecord {
  std::string id;
  std::string description;
  ModelType model_type = ModelType::general;
  std::string model;                 // the first (or only) model asked
  std::vector<std::string> models;   // every model asked (fan-out); not in the JSON, see results
  std::string node_id;               // node of the first successful answer
  std::vector<std::string> dependencies;
  std::string output;                // the answer; with fan-out every answer labelled by model
  SubtaskStatus status = SubtaskStatus::pending;
  int64_t duration_ms = 0;
  std::string error;                 // when failed
  std::vector<ModelResult> results;
};

struct Timings {
  int64_t analyse_ms = 0;
  int64_t decompose_ms = 0;
  int64_t execute_ms = 0;
  int64_t synthesise_ms = 0;
  int64_t total_ms = 0;
};

struct Run {
  std::string task_id;
  std::string task;
  RunStatus status = RunStatus::running;
  std::optional<Complexity> complexity;  // null in JSON until analysed
  std::vector<SubtaskRecord> subtasks;
  std::string synthesized;
  std::vector<RoleFallback> role_fallbacks;
  std::string error;       // when failed
  std::string created_at;  // RFC 3339
  Timings timings;
  std::string owner;       // the API key's name that started it ("" = no keys configured)
};

// {task_id, task, status, complexity, subtasks:[...], synthesized, role_fallbacks:[{role,
// wanted, used}], error?, created_at, timings:{analyse_ms, decompose_ms, execute_ms,
// synthesise_ms, total_ms}}
boost::json::object to_json(const Run& run);
// {id, description, model_type, model, node_id, dependencies, output, status, duration_ms,
// error?, results:[{model, node_id, output, ok, error}]}
boost::json::object to_json(const SubtaskRecord& st);

// 16 random lower-case hex characters.
std::string new_task_id();

// A sub-task's output from its models' results: with one model asked, its answer as it is;
// with several (fan-out), each successful answer under a "### <model>" heading, in the order
// the models were asked (failed ones are left out; their errors are in `results`).
std::string labelled_output(const std::vector<ModelResult>& results);

}  // namespace hydra::orchestrate
