// Fuzz target: an HTTP/1.1 request head and body as the server reads them (src/http/server.cpp:
// its plain reader, http::parse_plain_request, and else a Beast request_parser with the
// server's limits, read eagerly), then the server's framing check and the X-Hydra-* hint
// headers (src/api/hints.cpp) on the parsed request. What the plain reader takes, Beast's parser
// must read the same way (it traps otherwise).
#include "api/hints.hpp"
#include "common/model_name.hpp"
#include "http/server.hpp"
#include "http/types.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <iterator>
#include <cstddef>
#include <cstdint>

namespace {

using namespace hydra;
namespace bhttp = boost::beast::http;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const http::ServerLimits limits;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  // Several requests on one kept-alive connection, as the server's session loop reads them.
  for (int requests = 0; requests < 8; ++requests) {
    const auto whole = http::parse_plain_request(rest, limits.header_limit, limits.body_limit);
    const std::size_t before = rest.size();
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(limits.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.eager(true);  // what bhttp::async_read does
    boost::system::error_code ec;
    bool eof = false;  // no more bytes will come: the peer closed the connection
    while (!parser.is_done()) {
      if (eof || rest.empty()) {
        // As Beast's read does: end_of_stream before the first byte, else the parser decides.
        if (!parser.got_some()) return 0;
        parser.put_eof(ec);
        if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
        break;
      }
      std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        eof = used == 0;  // what is left is not enough, and nothing more arrives
        continue;
      }
      if (ec) break;
      if (used == 0) eof = true;  // no progress: never loop on the same bytes
    }
    if (whole && (ec || !parser.is_done())) __builtin_trap();  // the plain reader took what Beast refuses
    if (ec || !parser.is_done()) return 0;
    const http::Request req = http::Request::from_beast(parser.release());
    if (whole) {
      const http::Request& mine = whole->request;
      if (whole->size != before - rest.size() || mine.method() != req.method() || mine.target() != req.target() ||
          mine.version() != req.version() || mine.body() != req.body() || mine.keep_alive() != req.keep_alive())
        __builtin_trap();
      // The same fields: each one's value among those of its name, in order (Beast's message
      // groups repeats of a name together; the order among names means nothing).
      std::size_t count = 0;
      for (const auto& f : mine) {
        ++count;
        std::size_t earlier = 0;  // fields of this name before it in the plain reading
        for (auto e = mine.begin(); (*e).name_string().data() != f.name_string().data(); ++e)
          if (boost::beast::iequals((*e).name_string(), f.name_string())) ++earlier;
        auto b = req.begin();
        for (std::size_t seen = 0; b != req.end(); ++b)
          if (boost::beast::iequals((*b).name_string(), f.name_string()) && seen++ == earlier) break;
        if (b == req.end() || (*b).name_string() != f.name_string() || (*b).value() != f.value()) __builtin_trap();
      }
      if (count != static_cast<std::size_t>(std::distance(req.begin(), req.end()))) __builtin_trap();
    }
    if (http::framing_problem(req)) return 0;
    routing::RouteRequest route;
    std::string problem = api::read_hint_headers(req, route);
    if (problem.empty() && route.priority >= 1 && route.priority <= 10) {
      (void)normalize_model_name(req.target());
    }
    (void)req.keep_alive();
    if (!req.keep_alive() || rest.empty()) break;
  }
  return 0;
}
