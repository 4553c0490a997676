// Fuzz target: a node's whole (not streamed) reply translated to OpenAI's objects
// (src/api/openai/response.cpp translate_reply: chat.completion, text_completion, embeddings
// list with float or base64 encoding, a Response, and error replies).
//
// Input: byte 0 picks the kind (bits 0-1), the encoding (bit 2) and the node's status
// (bits 3-4); the rest is the body.
#include "api/openai/response.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra::api::openai;
  if (size == 0) return 0;
  static constexpr Kind kKinds[] = {Kind::chat, Kind::completion, Kind::embedding, Kind::responses};
  static constexpr int kStatuses[] = {200, 200, 404, 503};
  ReplyContext ctx;
  ctx.kind = kKinds[data[0] & 3];
  ctx.encoding = (data[0] & 4) ? EmbeddingEncoding::base64 : EmbeddingEncoding::float_array;
  ctx.id = "chatcmpl-fuzz";
  ctx.created = 1700000000;
  ctx.model = "qwen3:14b";
  const int status = kStatuses[(data[0] >> 3) & 3];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  HttpReply reply = translate_reply(ctx, status, body);
  if (reply.status < 100 || reply.status > 599) __builtin_trap();
  return 0;
}
