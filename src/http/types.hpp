#pragma once
// Shared vocabulary of the http layer: request/response types and the no-throw completion token.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <array>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace hydra::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
// What the server hands its handlers is an http::Request (http/request.hpp); what a client
// sends, and what the server's slow path parses, a Beast message.
using BeastRequest = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
template <class T>
using awaitable = asio::awaitable<T>;

// Completion token that reports errors as values instead of throwing (data path rule).
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A head and a body for one gathered write. (Made here, not with a braced list inside a
// coroutine: g++ 12 mishandles those.)
inline std::array<asio::const_buffer, 2> head_and_body(std::string_view head, std::string_view body) {
  return {asio::const_buffer(head.data(), head.size()), asio::const_buffer(body.data(), body.size())};
}

// One header line, "Name: value\r\n", appended to a head written as text.
inline void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ", 2).append(value).append("\r\n", 2);
}
// Fields of a head written as text besides the framing ones (Exchange::begin_stream): views.
using HeadField = std::pair<std::string_view, std::string_view>;
using HeadFields = std::span<const HeadField>;

// Fields a head written as text sets itself from its framing (any case): a copied field of
// one of these names is left out.
bool framing_field(std::string_view name);

struct ServerLimits {
  std::size_t body_limit = 64u << 20;      // request bodies (images in chat requests are large)
  std::size_t header_limit = 64u << 10;
  std::chrono::milliseconds header_timeout{30'000};  // the whole request head must arrive
  // The body must keep arriving: at least body_min_rate bytes per second, averaged over each
  // body_window (else 408). 0 turns the check off.
  std::size_t body_min_rate = 4u << 10;
  std::chrono::milliseconds body_window{20'000};
  std::chrono::milliseconds idle_timeout{120'000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{60'000};   // one write of a reply or chunk
};

}  // namespace hydra::http
