#pragma once
// What the relay needs to know of one line of an Ollama NDJSON stream (/api/chat or
// /api/generate), read in one pass over the line without building a JSON tree: whether it is
// an object, an error, the final chunk, and the text it carries. ContinuingSink reads every
// line of every stream it follows; a tree per line was most of its cost.
#include <string>
#include <string_view>

namespace hydra::api {

struct StreamLine {
  bool error = false;        // a top-level "error" member
  bool error_string = false;  // ... whose value is a string (in error_text)
  bool done = false;         // "done": true
  bool message = false;      // a "message" object (a chat chunk)
  bool tool_calls = false;   // message.tool_calls has content (not null, "", [])
  std::string error_text;
  std::string text;      // message.content of a chat chunk, else response
  std::string thinking;  // message.thinking of a chat chunk, else thinking
  std::string top_text, top_thinking;  // scratch: response and thinking beside a message
};

// Reads `line` (one JSON value, surrounding whitespace allowed) into `out`, whose strings keep
// their capacity from line to line. False when the line is not a JSON object: `out` says
// nothing then. Member names are matched as a JSON tree would see them (escapes decoded); for a
// name given twice, the later value counts.
bool read_stream_line(std::string_view line, StreamLine& out);

}  // namespace hydra::api
