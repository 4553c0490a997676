#pragma once
// The bytes HTTP allows in a token (request and reply heads read by Hydra itself), and a reply
// field's value as it may go on the wire. Values can carry text from a request (a node id named
// in a route reason): a CR or LF would end the line there and let that text write fields, or a
// body, of its own. Exchange and the server's refusals write every value
// through these; ReplyHead reads a node's values and reason phrase by the same rule.
#include <array>
#include <boost/beast/http/fields.hpp>
#include <string>
#include <string_view>

namespace hydra::http {

namespace detail {
// RFC 9110 5.6.2's tchar, as a table: the heads' readers ask it of every byte of every name.
inline constexpr auto kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
}  // namespace detail

// RFC 9110 5.6.2's tchar: a byte of a token (a method, a field name).
inline bool token_char(char c) { return detail::kTokenChars[static_cast<unsigned char>(c)]; }
// Whether every byte of `s` is a tchar (true for "": callers check for emptiness themselves).
inline bool token_chars(std::string_view s) {
  bool all = true;
  for (char c : s) all &= token_char(c);
  return all;
}
// Beast's id for the field name `name`, as bhttp::string_to_field gives it: the names
// a request usually carries found by their length and letters, the rest by Beast's table.
boost::beast::http::field field_id(std::string_view name);

// No control character but HTAB (so no CR, LF, NUL or DEL): the value goes out as it is.
bool field_value_safe(std::string_view value);
// The value with each control character but HTAB made a space.
std::string safe_field_value(std::string_view value);
// Every field of a head to be serialized made safe so (a mended field moves to the end).
void make_field_values_safe(boost::beast::http::fields& fields);

}  // namespace hydra::http
