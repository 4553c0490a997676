// Fuzz target: an Ollama request body as the routes read it: the model name (src/common/json.cpp
// parse_model_body, as /api/generate, /api/chat, /api/pull ... do), the one-pass reading of a
// model request (src/api/ollama_scan.cpp), which must agree with its tree's wherever it reads a
// body at all, and Hydra's own POST /generate body (src/api/generate_request.cpp), with the node
// body built from it.
#include "api/generate_request.hpp"
#include "api/ollama_scan.hpp"
#include "common/json.hpp"
#include "common/model_name.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

// Where the pass reads the body, the tree reads it too, to the same facts.
void same_as_tree(std::string_view body, const hydra::ModelBody* tree) {
  using namespace hydra::api;
  for (bool texts : {false, true}) {
    OllamaFacts scanned;
    if (!scan_ollama_request(body, texts, scanned)) continue;
    if (!tree) std::abort();
    const OllamaFields fields(tree->body);
    if (check_ollama_numbers(fields)) std::abort();
    const OllamaFacts read = facts_of(fields, tree->model, texts);
    bool same = scanned.model == read.model && scanned.changes_residency == read.changes_residency &&
                scanned.names_sampling == read.names_sampling && scanned.keep_alive.has_value() == read.keep_alive.has_value();
    if (same && scanned.keep_alive)
      same = scanned.keep_alive->forever == read.keep_alive->forever && scanned.keep_alive->duration == read.keep_alive->duration;
    // Texts: the tree keeps the first 64 KiB of a string, the pass all of it.
    const auto texts_same = [](std::string_view a, std::string_view b) { return a.size() > 65536 ? a.starts_with(b) : a == b; };
    if (same && texts) {
      same = texts_same(scanned.prompt, read.prompt) && texts_same(scanned.system, read.system) &&
             scanned.messages_array == read.messages_array && scanned.messages.size() == read.messages.size();
      for (std::size_t i = 0; same && i < scanned.messages.size(); ++i)
        same = texts_same(scanned.messages[i].role, read.messages[i].role) &&
               texts_same(scanned.messages[i].content, read.messages[i].content);
    }
    if (!same) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto model = parse_model_body(body, "model", "name");
  if (auto* m = std::get_if<ModelBody>(&model)) (void)normalize_model_name(m->model);
  same_as_tree(body, std::get_if<ModelBody>(&model));
  (void)parse_model_body(body, "source", nullptr);  // /api/copy
  auto generate = api::parse_generate_request(body);
  if (auto* g = std::get_if<api::GenerateRequest>(&generate)) {
    std::string name = g->model.empty() ? std::string("qwen3:14b") : normalize_model_name(g->model);
    (void)api::ollama_generate_body(*g, name);
  }
  return 0;
}
