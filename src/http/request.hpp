#pragma once
// A request as the server hands it to its handlers: method, target, version, header fields and
// body. Its fields are a FieldList (http/field_list.hpp) whose text is the head as it came, so
// a request costs one allocation for its head (and one for its body) rather than one per
// field, as a Beast message does. Handlers read it as they would Beast's request message.
//
// parse_plain_request() reads the plain form nearly every client sends, whole in a buffer,
// without Beast's parser; anything else (a chunked body, a head or body still arriving, obsolete
// line folding, odd bytes, framing to refuse) it leaves to Beast's parser (the server's slow
// path), whose message becomes a Request with from_beast().
#include "http/field_list.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::http {

class Request : public FieldList {
public:
  Request() : Request(boost::beast::http::verb::get, "/", 11) {}
  Request(boost::beast::http::verb method, std::string_view target, unsigned version);
  // What Beast's parser read (the slow path).
  static Request from_beast(boost::beast::http::request<boost::beast::http::string_body>&& message);

  boost::beast::http::verb method() const { return method_; }
  std::string_view method_string() const { return view(method_at_, method_size_); }
  std::string_view target() const { return view(target_at_, target_size_); }
  unsigned version() const { return version_; }
  // As Beast says it: HTTP/1.1 unless Connection has "close", HTTP/1.0 only with "keep-alive".
  bool keep_alive() const;

  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

private:
  friend struct PlainParse;
  // The method and the target are places in the field list's text too.
  std::uint32_t method_at_ = 0, method_size_ = 0, target_at_ = 0, target_size_ = 0;
  boost::beast::http::verb method_ = boost::beast::http::verb::get;
  unsigned version_ = 11;
  std::string body_;
};

// A request read whole from a connection's buffer, and the bytes it took there.
struct PlainRequest {
  Request request;
  std::size_t size = 0;
};
// The request at the start of `bytes` when it is whole there and in the plain form: a request
// line "METHOD /target HTTP/1.x", fields of token names and values of visible bytes, spaces and
// tabs, each line ended by CR LF, at most one Content-Length and no Transfer-Encoding, the head
// shorter than `header_limit` and the body within `body_limit`. nullopt for anything else: the
// caller's full parser (Beast's) then reads it, accepts it or refuses it.
std::optional<PlainRequest> parse_plain_request(std::string_view bytes, std::size_t header_limit,
                                                std::size_t body_limit);

}  // namespace hydra::http
