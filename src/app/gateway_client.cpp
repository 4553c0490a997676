#include "app/gateway_client.hpp"

#include "common/authority.hpp"
#include "http/tls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace hydra::app {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

std::string default_gateway_url() {
  const char* env = std::getenv("HYDRA_URL");
  return env && *env ? env : "http://127.0.0.1:8001";
}

namespace {

// A gateway that gave no reply: nothing listens, the connection failed, or it closed before any
// byte of a reply. The message says why in a few words; the next gateway of a list may be tried.
struct Unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A gateway whose packets are dropped would hold a blocking connect for the kernel's two
// minutes; the next gateway is tried sooner. Replies get no deadline: a run may take minutes.
constexpr auto kConnectTimeout = std::chrono::seconds(10);

void connect(asio::io_context& ioc, http::beast::tcp_stream& stream, const asio::ip::tcp::resolver::results_type& addresses,
             boost::system::error_code& ec) {
  stream.expires_after(kConnectTimeout);
  stream.async_connect(addresses, [&ec](boost::system::error_code e, const asio::ip::tcp::endpoint&) { ec = e; });
  ioc.run();
}

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
  if (ec) throw Unreachable("sending the request failed: " + ec.message());

  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  bhttp::read_header(stream, buffer, parser, ec);
  if (ec && !parser.got_some()) throw Unreachable("no reply: " + ec.message());
  if (ec) throw std::runtime_error("the gateway's reply broke off: " + ec.message());
  GatewayReply reply;
  reply.status = parser.get().result_int();
  reply.content_type = std::string(parser.get()[bhttp::field::content_type]);
  const bool unavailable = reply.status == 502 || reply.status == 503;  // kept whole, for the message
  char piece[8192];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    bhttp::read_some(stream, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    std::size_t got = sizeof piece - parser.get().body().size;
    reply.body.append(piece, got);
    if (got && on_piece && !unavailable) on_piece(std::string_view(piece, got));
    if (ec) throw std::runtime_error("the gateway's reply broke off: " + ec.message());
  }
  return reply;
}

// One gateway. Throws Unreachable when it gave no reply.
GatewayReply call_one(const std::string& url, std::string_view method, std::string_view target, std::string body,
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
    if (!ec) connect(ioc, http::beast::get_lowest_layer(stream), addresses, ec);
    if (ec) throw Unreachable(ec.message());
    stream.handshake(http::ssl::stream_base::client, ec);
    if (ec) throw Unreachable(http::error_text(http::handshake_error(stream, ec), authority->host));
    return exchange(stream, rest, method, target, std::move(body), on_piece);
  }
  http::beast::tcp_stream stream(ioc);
  if (!ec) connect(ioc, stream, addresses, ec);
  if (ec) throw Unreachable(ec.message());
  return exchange(stream, rest, method, target, std::move(body), on_piece);
}

// "URL,URL" -> its URLs, blanks around them dropped.
std::vector<std::string> split_urls(const std::string& urls) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos <= urls.size();) {
    std::size_t end = std::min(urls.find(',', pos), urls.size());
    std::string_view one = std::string_view(urls).substr(pos, end - pos);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    pos = end + 1;
  }
  if (out.empty()) out.push_back(urls);  // refused by call_one with the text as given
  return out;
}

}  // namespace

GatewayReply call_gateway(const std::string& urls, std::string_view method, std::string_view target, std::string body,
                          const std::function<void(std::string_view)>& on_piece) {
  const std::vector<std::string> list = split_urls(urls);
  std::string passed;  // "URL (why), " for each gateway passed over
  for (std::size_t i = 0;; ++i) {
    const std::string& url = list[i];
    const bool last = i + 1 == list.size();
    std::string why;
    try {
      GatewayReply reply = call_one(url, method, target, last ? std::move(body) : body, on_piece);
      reply.url = url;
      if (last || (reply.status != 502 && reply.status != 503)) return reply;
      why = fmt::format("status {}: {}", reply.status, error_text(reply.body));
    } catch (const Unreachable& e) {
      if (list.size() == 1) throw std::runtime_error(fmt::format("no answer from the gateway at {}: {}", url, e.what()));
      if (last) throw std::runtime_error(fmt::format("every gateway failed: {}{} ({})", passed, url, e.what()));
      why = e.what();
    }
    passed += fmt::format("{} ({}), ", url, why);
    fmt::print(stderr, "gateway {} unreachable ({}); trying {}\n", url, why, list[i + 1]);
  }
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
