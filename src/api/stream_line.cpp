// read_stream_line: boost::json's event parser (basic_parser) with a handler that keeps only
// the members a stream line's relay looks at, tracked by depth: the top object's members at
// depth 1, and the members of its "message" object at depth 2.
#include "api/stream_line.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <cstring>

namespace hydra::api {

namespace json = boost::json;
using boost::system::error_code;
using json::string_view;

namespace {

enum class Key : unsigned char { other, error, done, message, response, thinking, content, tool_calls };

Key top_key(std::string_view k) {
  if (k == "response") return Key::response;
  if (k == "done") return Key::done;
  if (k == "message") return Key::message;
  if (k == "thinking") return Key::thinking;
  if (k == "error") return Key::error;
  return Key::other;
}

Key message_key(std::string_view k) {
  if (k == "content") return Key::content;
  if (k == "thinking") return Key::thinking;
  if (k == "tool_calls") return Key::tool_calls;
  return Key::other;
}

struct LineHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit LineHandler(StreamLine& o) : out(o) {}

  StreamLine& out;
  int depth = 0;            // containers open
  bool object = false;      // the line's value is an object
  bool in_message = false;  // the container open at depth 2 is the top object's "message"
  Key top = Key::other;     // the top object's member being read
  Key inner = Key::other;   // the message's member being read
  char key_start[16];       // a name that came in parts (only short ones matter)

  bool at_top() const { return depth == 1; }
  bool at_message() const { return depth == 2 && in_message; }

  // Where a string value of the current member goes, if anywhere.
  std::string* target() {
    if (at_top()) {
      if (top == Key::response) return &out.top_text;
      if (top == Key::thinking) return &out.top_thinking;
      if (top == Key::error) return &out.error_text;
    } else if (at_message()) {
      if (inner == Key::content) return &out.text;
      if (inner == Key::thinking) return &out.thinking;
    }
    return nullptr;
  }
  // A value other than a string (or the start of a container) for the current member.
  void other_value(bool has_content) {
    if (at_top() && top == Key::done) out.done = false;
    if (at_message() && inner == Key::tool_calls) out.tool_calls = has_content;
  }
  void key(std::string_view k) {
    if (at_top()) {
      top = top_key(k);
      if (top == Key::error) {
        out.error = true;
        out.error_string = false;
        out.error_text.clear();
      } else if (top == Key::done) {
        out.done = false;
      } else if (top == Key::message) {  // an object (on_object_begin) or nothing
        out.message = out.tool_calls = false;
        out.text.clear();
        out.thinking.clear();
      } else if (std::string* t = target()) {
        t->clear();
      }
    } else if (at_message()) {
      inner = message_key(k);
      if (inner == Key::tool_calls) out.tool_calls = false;
      else if (std::string* t = target()) t->clear();
    }
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) {
    if (depth == 0) {
      object = true;
    } else if (at_top() && top == Key::message) {
      in_message = true;
      out.message = true;
    } else {
      other_value(true);
    }
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth;
    if (depth == 1) in_message = false;
    return true;
  }
  bool on_array_begin(error_code&) {
    other_value(true);  // an empty tool_calls array is settled at its end
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t n, error_code&) {
    --depth;
    if (at_message() && inner == Key::tool_calls) out.tool_calls = n > 0;
    return true;
  }
  bool on_key_part(string_view s, std::size_t n, error_code&) {
    if (n <= sizeof key_start) std::memcpy(key_start + (n - s.size()), s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t n, error_code&) {
    if (n == s.size()) {
      key(std::string_view(s.data(), s.size()));
    } else if (n <= sizeof key_start) {
      std::memcpy(key_start + (n - s.size()), s.data(), s.size());
      key(std::string_view(key_start, n));
    } else {
      key({});  // too long to be a name that matters
    }
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (std::string* t = target()) t->append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, std::size_t n, error_code&) {
    if (std::string* t = target()) t->append(s.data(), s.size());
    if (at_top() && top == Key::error) out.error_string = true;
    other_value(n > 0);
    return true;
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, string_view, error_code&) { other_value(true); return true; }
  bool on_uint64(std::uint64_t, string_view, error_code&) { other_value(true); return true; }
  bool on_double(double, string_view, error_code&) { other_value(true); return true; }
  bool on_bool(bool b, error_code&) {
    other_value(true);
    if (at_top() && top == Key::done) out.done = b;
    return true;
  }
  bool on_null(error_code&) { other_value(false); return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

bool read_stream_line(std::string_view line, StreamLine& out) {
  out.error = out.error_string = out.done = out.message = out.tool_calls = false;
  out.error_text.clear();
  out.text.clear();
  out.thinking.clear();
  out.top_text.clear();
  out.top_thinking.clear();
  json::basic_parser<LineHandler> p(json::parse_options{}, out);
  error_code ec;
  const std::size_t used = p.write_some(false, line.data(), line.size(), ec);
  if (ec || used < line.size() || !p.handler().object) return false;
  if (!out.message) {
    out.text.swap(out.top_text);
    out.thinking.swap(out.top_thinking);
  }
  return true;
}

}  // namespace hydra::api
