// parse_json_object_capped: boost::json's own DOM building (a value_stack fed by basic_parser),
// except that each string keeps at most `cap` bytes. A request of 64 MiB of base64 images is
// then read for its model, options and flags at the cost of a few KiB, while the body itself
// is relayed as it came: one copy of it in memory, not two.
#include "common/json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <fmt/format.h>

namespace hydra {

namespace json = boost::json;
using boost::system::error_code;
using boost::json::string_view;

namespace {

struct CappedHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  // `temp`: the caller's scratch for the stack of values being built (a request's few fields
  // then need no allocation of their own for it).
  CappedHandler(std::size_t c, unsigned char* temp, std::size_t temp_size) : st({}, temp, temp_size), cap(c) {}
  json::value_stack st;
  std::size_t cap;

  // The part of `s` that still fits when `n` bytes of the string have arrived with it.
  string_view kept(string_view s, std::size_t n) const {
    const std::size_t before = n - s.size();
    if (before >= cap) return {};
    return s.substr(0, std::min(s.size(), cap - before));
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) { st.push_object(n); return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) { st.push_array(n); return true; }
  bool on_key_part(string_view s, std::size_t, error_code&) { st.push_chars(s); return true; }
  bool on_key(string_view s, std::size_t, error_code&) { st.push_key(s); return true; }
  bool on_string_part(string_view s, std::size_t n, error_code&) { st.push_chars(kept(s, n)); return true; }
  bool on_string(string_view s, std::size_t n, error_code&) { st.push_string(kept(s, n)); return true; }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, error_code&) { st.push_int64(i); return true; }
  bool on_uint64(std::uint64_t u, string_view, error_code&) { st.push_uint64(u); return true; }
  bool on_double(double d, string_view, error_code&) { st.push_double(d); return true; }
  bool on_bool(bool b, error_code&) { st.push_bool(b); return true; }
  bool on_null(error_code&) { st.push_null(); return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

std::variant<json::object, JsonError> parse_json_object_capped(std::string_view body, std::size_t cap,
                                                               json::storage_ptr storage) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return JsonError{"missing request body"};
  unsigned char temp[1024];
  json::basic_parser<CappedHandler> p(json::parse_options{}, cap, temp, sizeof temp);
  p.handler().st.reset(std::move(storage));
  error_code ec;
  const std::size_t used = p.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) ec = json::error::extra_data;
  if (ec) return JsonError{fmt::format("invalid JSON: {}", ec.message())};
  json::value v = p.handler().st.release();
  if (!v.is_object()) return JsonError{"invalid JSON: expected an object"};
  return std::move(v.as_object());
}

}  // namespace hydra
