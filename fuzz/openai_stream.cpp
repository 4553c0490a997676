// Fuzz target: the OpenAI stream writer (src/api/openai/stream.cpp): a node's NDJSON body,
// arriving in pieces, translated to server-sent events, then the end of the body or a failure.
//
// Input: byte 0 picks the kind (bits 0-1: chat, completion, chat, responses), include_usage
// (bit 1), whether the node fails instead of ending (bit 2) and the piece size (bits 3-7); the
// rest is the body.
#include "api/openai/response.hpp"
#include "api/openai/stream.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra::api::openai;
  if (size == 0) return 0;
  ReplyContext ctx;
  static constexpr Kind kKinds[] = {Kind::chat, Kind::completion, Kind::chat, Kind::responses};
  ctx.kind = kKinds[data[0] & 3];
  ctx.id = ctx.kind == Kind::completion ? "cmpl-fuzz" : "chatcmpl-fuzz";
  ctx.created = 1700000000;
  ctx.model = "qwen3:14b";
  ctx.include_usage = (data[0] & 2) != 0;
  const bool fails = (data[0] & 4) != 0;
  const std::size_t piece = (data[0] >> 3) + 1;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  StreamTranslator t(ctx);
  std::string out;
  while (!body.empty() && !t.finished()) {
    std::string_view part = body.substr(0, piece);
    body.remove_prefix(part.size());
    out += t.feed(part);
  }
  if (fails) {
    out += t.fail(make_error(502, "the node closed the connection"));
  } else {
    out += t.finish();
  }
  // Once finished, nothing more comes out.
  if (t.finished() && !t.feed("{\"done\":true}\n").empty()) __builtin_trap();
  return 0;
}
