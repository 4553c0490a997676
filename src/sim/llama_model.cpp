#include "sim/llama_model.hpp"

#include "sim/catalog.hpp"

#include <stdexcept>

namespace hydra::sim {

namespace json = boost::json;

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Parameters from the Ollama catalogue's estimate ("8.0B"), so both kinds of sim agree.
uint64_t params_of(const ModelSpec& spec) {
  try {
    return static_cast<uint64_t>(std::stod(spec.parameter_size) * 1e9);
  } catch (...) {
    return 0;
  }
}

json::object sampling_params(const LlamaModel& model) {
  json::object p;
  p["n_predict"] = -1;
  p["seed"] = 4294967295u;
  p["temperature"] = 0.8;
  p["top_k"] = 40;
  p["top_p"] = 0.95;
  p["min_p"] = 0.05;
  p["n_keep"] = 0;
  p["stream"] = true;
  p["cache_prompt"] = true;
  p["n_ctx"] = model.n_ctx;
  return p;
}

}  // namespace

LlamaModel::LlamaModel(const NodeConfig& config, SteadyTime started) {
  if (config.models.empty()) throw std::invalid_argument("--kind llama-server needs a --model");
  const auto& [name, size_gb] = config.models.front();
  ModelSpec spec = make_model_spec(name, size_gb, WallTime{});
  auto names = split_commas(config.alias);
  id = names.empty() ? name : names.front();
  if (names.size() > 1) aliases.assign(names.begin() + 1, names.end());
  path = config.model_path.empty() ? name : config.model_path;
  size = spec.size;
  n_params = params_of(spec);
  n_ctx = config.ctx;
  ready_at = started + std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(config.load_seconds));
  slots.resize(static_cast<std::size_t>(config.parallel < 1 ? 1 : config.parallel));
}

json::object llama_error(int code, std::string_view message, std::string_view type) {
  json::object e;
  e["code"] = code;
  e["message"] = message;
  e["type"] = type;
  json::object out;
  out["error"] = std::move(e);
  return out;
}

json::object slot_body(const LlamaModel& model, std::size_t index) {
  const LlamaSlot& s = model.slots.at(index);
  json::object next;
  next["has_next_token"] = s.processing;
  next["has_new_line"] = false;
  next["n_remain"] = s.n_remain;
  next["n_decoded"] = s.n_decoded;
  json::object o;
  o["id"] = index;
  o["id_task"] = s.id_task;
  o["n_ctx"] = model.n_ctx;
  o["speculative"] = false;
  o["is_processing"] = s.processing;
  o["params"] = sampling_params(model);
  o["next_token"] = std::move(next);
  return o;
}

json::array slots_body(const LlamaModel& model) {
  json::array out;
  for (std::size_t i = 0; i < model.slots.size(); ++i) out.push_back(slot_body(model, i));
  return out;
}

json::object props_body(const LlamaModel& model) {
  json::object settings = slot_body(model, 0);
  settings["id_task"] = -1;
  settings["is_processing"] = false;
  json::object modalities;
  modalities["vision"] = false;
  modalities["audio"] = false;
  json::object out;
  out["default_generation_settings"] = std::move(settings);
  out["total_slots"] = model.slots.size();
  out["model_alias"] = model.id;
  out["model_path"] = model.path;
  out["modalities"] = std::move(modalities);
  out["chat_template"] =
      "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
      "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  out["bos_token"] = "<|im_start|>";
  out["eos_token"] = "<|im_end|>";
  out["build_info"] = "hydra-sim";
  out["is_sleeping"] = false;
  return out;
}

json::object models_body(const LlamaModel& model, int64_t created) {
  json::object meta;
  meta["vocab_type"] = 2;
  meta["n_vocab"] = 151936;
  meta["n_ctx_train"] = 32768;
  meta["n_embd"] = 4096;
  meta["n_params"] = model.n_params;
  meta["size"] = model.size;
  meta["n_ctx"] = model.n_ctx;
  json::array aliases;
  for (const auto& a : model.aliases) aliases.push_back(json::value(a));
  json::object entry;
  entry["id"] = model.id;
  entry["object"] = "model";
  entry["created"] = created;
  entry["owned_by"] = "llamacpp";
  entry["aliases"] = std::move(aliases);
  entry["meta"] = std::move(meta);
  json::array data;
  data.push_back(std::move(entry));

  json::object details;
  details["format"] = "gguf";
  json::object ollama_style;
  ollama_style["name"] = model.id;
  ollama_style["model"] = model.id;
  ollama_style["modified_at"] = "";
  ollama_style["size"] = "";
  ollama_style["digest"] = "";
  ollama_style["type"] = "model";
  ollama_style["description"] = "";
  ollama_style["tags"] = json::array{json::value("")};
  ollama_style["capabilities"] = json::array{json::value("completion")};
  ollama_style["parameters"] = "";
  ollama_style["details"] = std::move(details);
  json::array models;
  models.push_back(std::move(ollama_style));

  json::object out;
  out["models"] = std::move(models);
  out["object"] = "list";
  out["data"] = std::move(data);
  return out;
}

}  // namespace hydra::sim
