// Fuzz target: an Ollama request body as the routes read it: the model name (src/common/json.cpp
// parse_model_body, as /api/generate, /api/chat, /api/pull ... do) and Hydra's own POST /generate
// body (src/api/generate_request.cpp), with the node body built from it.
#include "api/generate_request.hpp"
#include "common/json.hpp"
#include "common/model_name.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto model = parse_model_body(body, "model", "name");
  if (auto* m = std::get_if<ModelBody>(&model)) (void)normalize_model_name(m->model);
  (void)parse_model_body(body, "source", nullptr);  // /api/copy
  auto generate = api::parse_generate_request(body);
  if (auto* g = std::get_if<api::GenerateRequest>(&generate)) {
    std::string name = g->model.empty() ? std::string("qwen3:14b") : normalize_model_name(g->model);
    (void)api::ollama_generate_body(*g, name);
  }
  return 0;
}
