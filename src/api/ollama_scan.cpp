// scan_ollama_request: boost::json's parser driving a handler that keeps only what the gateway
// reads (a request's tree cost about twice the parse itself). Where the tree's reading has a
// rule (check_ollama_numbers, changes_residency, the model's length), the pass either follows
// it or gives up and leaves the request to the tree.
#include "api/ollama_scan.hpp"

#include "common/limits.hpp"
#include "memory/policy.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <cmath>
#include <cstdint>

namespace hydra::api {

namespace json = boost::json;
using boost::system::error_code;
using jsv = boost::json::string_view;

namespace {

// The top-level fields the pass reads (a bit each in Scan::seen), and what a value's place is.
enum class Top : uint8_t { other, model, name, prompt, system, messages, keep_alive, options };
enum class Opt : uint8_t { other, num_predict, num_ctx };
enum class Msg : uint8_t { other, role, content };
enum class Place : uint8_t { none, top, option, message };
// What a top-level prompt or messages field held: changes_residency() tells a load from them.
enum class Held : uint8_t { absent, empty, other };

Top top_of(std::string_view k) {
  switch (k.size()) {
    case 4: return k == "name" ? Top::name : Top::other;
    case 5: return k == "model" ? Top::model : Top::other;
    case 6: return k == "prompt" ? Top::prompt : k == "system" ? Top::system : Top::other;
    case 7: return k == "options" ? Top::options : Top::other;
    case 8: return k == "messages" ? Top::messages : Top::other;
    case 10: return k == "keep_alive" ? Top::keep_alive : Top::other;
    default: return Top::other;
  }
}

struct Scan {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  Scan(std::string_view b, bool t, OllamaFacts& o) : body(b), texts(t), out(o) {}
  std::string_view body;
  bool texts;
  OllamaFacts& out;

  bool unusual = false;        // the tree must read it
  int depth = 0;               // containers open
  Top top = Top::other;        // the key of the value at depth 1
  Opt opt = Opt::other;        // ... at depth 2 in options
  Msg msg = Msg::other;        // ... at depth 3 in a message
  Top region = Top::other;     // the top-level field whose container is open at depth 2
  bool in_message = false;     // an object among the messages is open
  unsigned seen = 0;           // the Top fields met (a bit each)
  unsigned opts_seen = 0;      // num_predict, num_ctx met
  std::string pieces;          // a key or string arriving in parts
  std::string_view model, name;
  bool has_model = false, has_name = false;
  Held prompt = Held::absent, messages = Held::absent;
  bool messages_array = false;
  bool keep_present = false;   // even as null: changes_residency() counts it
  json::value keep;            // its value (a number or a string)
  OllamaFacts::Message message;

  Place place() const {
    if (depth == 1) return Place::top;
    if (depth == 2 && region == Top::options) return Place::option;
    if (depth == 3 && region == Top::messages && in_message) return Place::message;
    return Place::none;
  }

  // Every value (scalar or container) met: at depth 0 only the top-level object will do, and
  // each value directly in the messages array is one message more.
  bool value_met() {
    if (depth == 0) {
      unusual = true;
      return false;
    }
    if (depth == 2 && region == Top::messages) messages = Held::other;
    return true;
  }

  // The whole string just ended (`s`, its last part): a view into the body when it lay there
  // whole, else kept in out.owned.
  std::string_view whole(jsv s) {
    if (pieces.empty()) {
      const auto at = reinterpret_cast<std::uintptr_t>(s.data());
      const auto from = reinterpret_cast<std::uintptr_t>(body.data());
      if (at >= from && at + s.size() <= from + body.size()) return std::string_view(s.data(), s.size());
    }
    pieces.append(s.data(), s.size());
    out.owned.push_front(std::move(pieces));
    pieces.clear();
    return out.owned.front();
  }

  // A value other than a string or a number at `place` (null, true/false, an object, an array).
  void other_value(Place p, bool null) {
    if (p == Place::top) {
      switch (top) {
        case Top::model:
        case Top::name:
          if (!null) unusual = true;
          break;
        case Top::prompt: prompt = Held::other; break;
        case Top::messages: messages = Held::other; break;
        case Top::keep_alive:
          keep_present = true;
          if (!null) unusual = true;
          break;
        case Top::options:
          if (!null) unusual = true;
          break;
        default: break;
      }
    } else if (p == Place::option) {
      if (!null && opt != Opt::other) unusual = true;
    } else if (p == Place::message) {
      if (msg == Msg::role) message.role = {};
      else if (msg == Msg::content) message.content = {};
    }
  }

  // Every number as a double: what check_ollama_numbers and parse_keep_alive read it as.
  bool number(double d) {
    if (!value_met()) return true;
    const Place p = place();
    if (p == Place::top) {
      if (top == Top::keep_alive) {
        keep_present = true;
        keep = d;
      } else {
        other_value(p, false);
      }
    } else if (p == Place::option) {
      if (!std::isfinite(d)) unusual = true;  // a JSON 1e400 reads as infinity
      const double tokens = static_cast<double>(limits::kTokens);
      if (opt == Opt::num_predict && (d < -2 || d > tokens)) unusual = true;
      if (opt == Opt::num_ctx && (d < 0 || d > tokens)) unusual = true;
    } else if (p == Place::message) {
      other_value(p, false);
    }
    return true;
  }

  void key(std::string_view k) {
    if (depth == 1) {
      top = top_of(k);
      const unsigned bit = 1u << static_cast<unsigned>(top);
      if (top != Top::other && (seen & bit)) unusual = true;  // the tree keeps the last: it decides
      seen |= bit;
    } else if (depth == 2 && region == Top::options) {
      opt = k == "num_predict" ? Opt::num_predict : k == "num_ctx" ? Opt::num_ctx : Opt::other;
      if (memory::sampling_option(k)) out.names_sampling = true;
      const unsigned bit = 1u << static_cast<unsigned>(opt);
      if (opt != Opt::other && (opts_seen & bit)) unusual = true;
      opts_seen |= bit;
    } else if (depth == 3 && region == Top::messages && in_message) {
      msg = k == "role" ? Msg::role : k == "content" ? Msg::content : Msg::other;
    }
  }

  bool container_begin(bool object) {
    if (depth == 0) {
      if (!object) unusual = true;
      depth = 1;
      return true;
    }
    value_met();
    const Place p = place();
    const bool list = p == Place::top && top == Top::messages && !object;
    const bool options = p == Place::top && top == Top::options && object;
    if (list) {
      messages = Held::empty;  // until an element comes
      messages_array = true;
    } else if (!options) {
      other_value(p, false);
    }
    if (depth == 1) region = list || options ? top : Top::other;
    if (depth == 2 && region == Top::messages && object) {
      in_message = true;
      message = {};
    }
    ++depth;
    return true;
  }

  bool container_end() {
    --depth;
    if (depth == 2 && region == Top::messages && in_message) {
      in_message = false;
      if (texts) out.messages.push_back(message);
    }
    if (depth == 1) region = Top::other;
    return true;
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return container_begin(true); }
  bool on_object_end(std::size_t, error_code&) { return container_end(); }
  bool on_array_begin(error_code&) { return container_begin(false); }
  bool on_array_end(std::size_t, error_code&) { return container_end(); }
  bool on_key_part(jsv s, std::size_t, error_code&) {
    pieces.append(s.data(), s.size());
    return true;
  }
  bool on_key(jsv s, std::size_t, error_code&) {
    if (pieces.empty()) {
      key(std::string_view(s.data(), s.size()));
    } else {
      pieces.append(s.data(), s.size());
      key(pieces);
      pieces.clear();
    }
    return true;
  }
  // A string's parts are kept only where the whole string is read.
  bool wanted_string() const {
    switch (place()) {
      case Place::top:
        return top == Top::model || top == Top::name || top == Top::keep_alive ||
               (texts && (top == Top::prompt || top == Top::system));
      case Place::message: return texts && msg != Msg::other;
      default: return false;
    }
  }
  bool on_string_part(jsv s, std::size_t, error_code&) {
    if (wanted_string()) pieces.append(s.data(), s.size());
    return true;
  }
  bool on_string(jsv s, std::size_t n, error_code&) {
    if (!value_met()) return true;
    const Place p = place();
    if (p == Place::option && opt != Opt::other) unusual = true;  // num_predict or num_ctx as a string
    if (!wanted_string()) {
      if (p == Place::top && top == Top::prompt) prompt = n == 0 ? Held::empty : Held::other;
      else if (p == Place::top && top == Top::messages) messages = Held::other;
      else if (p == Place::top && top == Top::options) unusual = true;
      pieces.clear();
      return true;
    }
    const std::string_view text = whole(s);
    if (p == Place::message) {
      (msg == Msg::role ? message.role : message.content) = text;
      return true;
    }
    switch (top) {
      case Top::model:
        model = text;
        has_model = true;
        break;
      case Top::name:
        name = text;
        has_name = true;
        break;
      case Top::prompt:
        prompt = n == 0 ? Held::empty : Held::other;
        out.prompt = text;
        break;
      case Top::system: out.system = text; break;
      case Top::keep_alive:
        keep_present = true;
        keep = json::string_view(text.data(), text.size());
        break;
      default: break;
    }
    return true;
  }
  bool on_number_part(jsv, error_code&) { return true; }
  bool on_int64(std::int64_t i, jsv, error_code&) { return number(static_cast<double>(i)); }
  bool on_uint64(std::uint64_t u, jsv, error_code&) { return number(static_cast<double>(u)); }
  bool on_double(double d, jsv, error_code&) { return number(d); }
  bool on_bool(bool, error_code&) {
    if (value_met()) other_value(place(), false);
    return true;
  }
  bool on_null(error_code&) {
    if (value_met()) other_value(place(), true);
    return true;
  }
  bool on_comment_part(jsv, error_code&) { return true; }
  bool on_comment(jsv, error_code&) { return true; }
};

}  // namespace

bool scan_ollama_request(std::string_view body, bool texts, OllamaFacts& out) {
  out = OllamaFacts{};
  json::basic_parser<Scan> parser(json::parse_options{}, body, texts, out);
  error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  const Scan& scan = parser.handler();
  if (ec || used < body.size() || scan.unusual) return false;
  // The model as the tree reads it: "model", else "name" when "model" is absent or empty.
  const std::string_view model = scan.has_model && !scan.model.empty() ? scan.model : scan.name;
  if (model.empty() || model.size() > limits::kNameBytes) return false;
  if (scan.has_model && scan.model.size() > limits::kNameBytes) return false;
  out.model = std::string(model);
  if (scan.keep_present) {
    KeepAliveResult keep = parse_keep_alive(&scan.keep, KeepAlive{});
    if (!keep.value) return false;
    if (!scan.keep.is_null()) out.keep_alive = keep.value;
  }
  const bool no_prompt = scan.prompt != Held::other && scan.messages != Held::other;
  out.changes_residency = no_prompt || scan.keep_present;
  if (texts) out.messages_array = scan.messages_array;
  return true;
}

}  // namespace hydra::api
