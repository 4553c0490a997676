// Fuzz target: an OpenAI request body translated to its Ollama call (src/api/openai/request*.cpp)
// for each of /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/responses, and the
// reply context
// made from a successful translation.
#include "api/openai/request.hpp"
#include "api/openai/response.hpp"

#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra::api::openai;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (Kind kind : {Kind::chat, Kind::completion, Kind::embedding, Kind::responses}) {
    auto call = translate_request(kind, body);
    if (auto* c = std::get_if<OllamaCall>(&call)) {
      (void)boost::json::serialize(c->body);
      (void)reply_context(*c, "chatcmpl-fuzz", 1700000000);
    }
  }
  return 0;
}
