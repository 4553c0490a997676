#pragma once
// The orchestrator's settings: which model plays each role, how wide a sub-task fans out, how
// many sub-tasks a plan may hold. Filled by the gateway's configuration and copied into each
// Orchestrator; plain data.
#include <string>
#include <vector>

namespace hydra::orchestrate {

struct Settings {
  // One model per role. A role whose model no healthy node has falls back to the closest
  // available model (roles.hpp).
  std::string light_model = "qwen3:1.7b";          // analyse; decompose MODERATE tasks
  std::string heavy_model = "qwen3:14b";           // decompose COMPLEX tasks; synthesise; SIMPLE tasks
  std::string code_model = "qwen2.5-coder:14b";    // sub-tasks of type code
  std::string reasoning_model = "qwen3:14b";       // sub-tasks of type reasoning (qwen3 thinks)
  std::string general_model = "qwen3:8b";          // sub-tasks of type general
  // More models per sub-task role, tried in order after the role's model when fanout > 1.
  std::vector<std::string> code_extra;
  std::vector<std::string> reasoning_extra;
  std::vector<std::string> general_extra;
  int fanout = 1;        // models asked per sub-task (clamped to 1..kMaxFanout)
  int max_subtasks = 6;  // sub-tasks a plan may hold (clamped to 1..kMaxSubtasks)
  int priority = 5;      // priority of the orchestrator's own calls (1..10) unless a request says
  int max_runs = 8;      // runs at once (orchestrate.max_runs); the API answers 429 beyond it
};

inline constexpr int kMaxFanout = 8;
inline constexpr int kMaxSubtasks = 32;

}  // namespace hydra::orchestrate
