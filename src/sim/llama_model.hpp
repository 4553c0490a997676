#pragma once
// What a llama-server sim (`hydra sim --kind llama-server`) serves: one model, loaded at
// start, and its slots. The bodies of /props, /slots and /v1/models and llama-server's error
// shape are plain functions of it (docs/LLAMACPP.md section 3).
#include "common/clock.hpp"
#include "sim/config.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::sim {

struct LlamaSlot {
  bool processing = false;
  int64_t id_task = -1;
  int64_t n_decoded = 0;  // tokens generated so far by the current (or last) task
  int64_t n_remain = -1;  // tokens it may still generate (-1: no limit)
};

struct LlamaModel {
  // The first of config.models (throws std::invalid_argument when there is none: start-up).
  LlamaModel(const NodeConfig& config, SteadyTime started);

  std::string id;                    // the API id: the first --alias, else the model's name
  std::vector<std::string> aliases;  // the other aliases (a comma list, as llama-server takes)
  std::string path;                  // -m: --model-path, else the name
  uint64_t size = 0;                 // bytes
  uint64_t n_params = 0;
  int n_ctx = 4096;
  SteadyTime ready_at;               // loaded from then on
  std::vector<LlamaSlot> slots;      // --parallel of them
  int64_t next_task = 0;

  bool loading(SteadyTime now) const { return now < ready_at; }
};

// {"error":{"code","message","type"}}, llama-server's error body.
boost::json::object llama_error(int code, std::string_view message, std::string_view type);

boost::json::object props_body(const LlamaModel& model);
boost::json::object slot_body(const LlamaModel& model, std::size_t index);
boost::json::array slots_body(const LlamaModel& model);
// /v1/models: the OpenAI list, plus the Ollama-style "models" array llama-server adds.
boost::json::object models_body(const LlamaModel& model, int64_t created);

}  // namespace hydra::sim
