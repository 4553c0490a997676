#pragma once
// Reading replies as a client does: an Ollama NDJSON stream line by line, an OpenAI SSE
// stream event by event, and the text of a whole (non-streamed) reply of either API.
#include "support/http_client.hpp"

#include <boost/json/object.hpp>
#include <vector>

namespace hydra::test {

struct Streamed {
  HttpReply reply;
  std::vector<boost::json::object> lines;  // every line, each a whole JSON object
  std::string text;                        // message.content or response, concatenated
  bool torn = false;                       // a line that is not a JSON object reached the client
  boost::json::object last() const { return lines.empty() ? boost::json::object{} : lines.back(); }
  bool done() const;                       // the last line says done: true
  bool error() const;                      // the last line is {"error": ...}
};
Streamed parse_ndjson(HttpReply reply);

struct SseText {
  std::string text;              // delta contents, concatenated
  int deltas = 0;                // non-empty content deltas
  int64_t completion_tokens = -1;  // from the usage event, when there was one
  bool done = false;             // "data: [DONE]" came
  bool error = false;            // an error event came
  bool torn = false;             // a data line that is not JSON
};
SseText parse_sse(const std::string& body);

// The text of a whole reply: Ollama's message.content or response, OpenAI's
// choices[0].message.content or choices[0].text. Empty when the body has none.
std::string reply_text(const std::string& body);

}  // namespace hydra::test
