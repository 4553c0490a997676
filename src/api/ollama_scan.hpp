#pragma once
// An Ollama model request (/api/generate, /api/chat, /api/embed, ...) read in one pass over its
// text, without building a JSON tree: the facts routing and the relay go by (OllamaFacts).
// A request the pass does not find plainly usable (unusable JSON, a field of the wrong type, a
// number out of range, a field given twice) is left to the tree (parse_model_body and
// check_ollama_numbers), which answers it in its exact words. A pure function, tested against
// the tree.
#include "api/ollama_request.hpp"

namespace hydra::api {

// True with `out` filled as the tree would have it (the model from "model", else "name";
// `texts`: the prompt's texts too); false, with `out` unspecified, when the tree must read it.
bool scan_ollama_request(std::string_view body, bool texts, OllamaFacts& out);

}  // namespace hydra::api
