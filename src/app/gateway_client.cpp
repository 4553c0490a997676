#include "app/gateway_client.hpp"

#include "common/authority.hpp"
#include "http/tls.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <cstdlib>
#include <stdexcept>

namespace hydra::app {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

std::string default_gateway_url() {
  const char* env = std::getenv("HYDRA_URL");
  return env && *env ? env : "http://127.0.0.1:8001";
}

namespace {

// One request and its reply on a connected stream (a socket, or TLS over one).
template <class Stream>
GatewayReply exchange(Stream& stream, std::string_view host, std::string_view method, std::string_view target,
                      std::string body, const std::function<void(std::string_view)>& on_piece) {
  boost::system::error_code ec;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), std::string(target), 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::content_type, "application/json");
  // A gateway with API keys: the key from HYDRA_API_KEY (an admin key for `hydra nodes`).
  if (const char* key = std::getenv("HYDRA_API_KEY"); key && *key)
    req.set(bhttp::field::authorization, std::string("Bearer ") + key);
  req.body() = std::move(body);
  req.prepare_payload();
  bhttp::write(stream, req, ec);
  if (ec) throw std::runtime_error("sending to the gateway failed: " + ec.message());

  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  bhttp::read_header(stream, buffer, parser, ec);
  if (ec) throw std::runtime_error("the gateway did not answer: " + ec.message());
  GatewayReply reply;
  reply.status = parser.get().result_int();
  reply.content_type = std::string(parser.get()[bhttp::field::content_type]);
  char piece[8192];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    bhttp::read_some(stream, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    std::size_t got = sizeof piece - parser.get().body().size;
    reply.body.append(piece, got);
    if (got && on_piece) on_piece(std::string_view(piece, got));
    if (ec) throw std::runtime_error("the gateway's reply broke off: " + ec.message());
  }
  return reply;
}

}  // namespace

GatewayReply call_gateway(const std::string& url, std::string_view method, std::string_view target, std::string body,
                          const std::function<void(std::string_view)>& on_piece) {
  std::string_view rest = url;
  const bool tls = rest.starts_with("https://");
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  else if (tls) rest.remove_prefix(8);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto authority = parse_authority(rest);
  if (!authority)
    throw std::runtime_error("the gateway URL must be http://HOST:PORT or https://HOST:PORT, got \"" + url + "\"");
  asio::io_context ioc;
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ioc);
  auto addresses = resolver.resolve(authority->host, std::to_string(authority->port.value_or(8001)), ec);
  if (tls) {
    // Verified against the system's CAs, or HYDRA_GATEWAY_CA (a PEM file) when set.
    const char* ca = std::getenv("HYDRA_GATEWAY_CA");
    std::string error;
    auto context = http::make_client_context(ca ? ca : "", error);
    if (!context) throw std::runtime_error("HYDRA_GATEWAY_CA: " + error);
    http::TlsStream stream(http::beast::tcp_stream(ioc), *context);
    if (!ec) ec = http::prepare_client(stream, authority->host);
    if (!ec) http::beast::get_lowest_layer(stream).connect(addresses, ec);
    if (ec) throw std::runtime_error("no answer from the gateway at " + url + ": " + ec.message());
    stream.handshake(http::ssl::stream_base::client, ec);
    if (ec) throw std::runtime_error(http::error_text(http::handshake_error(stream, ec), authority->host));
    return exchange(stream, rest, method, target, std::move(body), on_piece);
  }
  asio::ip::tcp::socket socket(ioc);
  if (!ec) asio::connect(socket, addresses, ec);
  if (ec) throw std::runtime_error("no answer from the gateway at " + url + ": " + ec.message());
  return exchange(socket, rest, method, target, std::move(body), on_piece);
}

void SseReader::feed(std::string_view text) {
  pending_.append(text);
  for (std::size_t end; (end = pending_.find("\n\n")) != std::string::npos;) {
    std::string block = pending_.substr(0, end);
    pending_.erase(0, end + 2);
    std::string event = "message", data;
    std::size_t pos = 0;
    while (pos <= block.size()) {
      std::size_t nl = block.find('\n', pos);
      std::string_view line = std::string_view(block).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (line.starts_with("event: ")) event = line.substr(7);
      else if (line.starts_with("data: ")) data += line.substr(6);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    boost::system::error_code ec;
    json::value value = json::parse(data, ec);
    if (!ec) on_event_(event, value);
  }
}

std::string error_text(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object())
    if (const json::value* e = v.as_object().if_contains("error"); e && e->is_string()) return std::string(e->get_string());
  return body;
}

}  // namespace hydra::app
