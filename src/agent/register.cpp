#include "agent/register.hpp"

#include "common/authority.hpp"
#include "common/percent.hpp"
#include "http/tls.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <exception>
#include <ifaddrs.h>
#include <net/if.h>
#include <random>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace hydra::agent {

namespace asio = http::asio;
namespace beast = http::beast;
namespace bhttp = http::bhttp;
namespace json = boost::json;
using http::error_code;
using http::tcp;
using std::chrono::milliseconds;

std::string GatewayUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == (tls ? 443 : 80) ? h : h + ":" + std::to_string(port);
}

std::optional<GatewayUrl> parse_gateway_url(std::string_view text) {
  GatewayUrl out;
  if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else if (text.starts_with("https://")) {
    text.remove_prefix(8);
    out.tls = true;
    out.port = 443;
  } else {
    return std::nullopt;
  }
  auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) return std::nullopt;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  auto parsed = parse_authority(authority);
  if (!parsed) return std::nullopt;
  out.host = std::move(parsed->host);
  if (parsed->port) out.port = *parsed->port;
  return out;
}

json::object registration_body(const RegisterOptions& options, const Reading& reading) {
  json::object o;
  o["url"] = options.node_url;
  o["agent_url"] = options.agent_url;
  o["name"] = options.name;
  o["resources"] = to_json(reading);
  return o;
}

json::object heartbeat_body(const Reading& reading) {
  json::object o;
  o["resources"] = to_json(reading);
  return o;
}

std::optional<std::string> registration_id(std::string_view reply_body) {
  error_code ec;
  json::value doc = json::parse(reply_body, ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  const json::value* id = o ? o->if_contains("id") : nullptr;
  if (!id) return std::nullopt;
  if (id->is_string() && !id->get_string().empty()) return std::string(id->get_string());
  if (id->is_int64()) return std::to_string(id->get_int64());
  if (id->is_uint64()) return std::to_string(id->get_uint64());
  return std::nullopt;
}

std::string primary_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found;
  for (ifaddrs* a = list; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP)) continue;
    char text[INET_ADDRSTRLEN] = {};
    auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text)) found = text;
  }
  freeifaddrs(list);
  return found.empty() ? "127.0.0.1" : found;
}

namespace {

struct PostResult {
  error_code ec;
  int status = 0;
  std::string body;
};

}  // namespace

struct Registrar::State {
  State(asio::any_io_executor ex, RegisterOptions o, GatewayUrl u, const ReadingStore& s)
      : executor(ex), options(std::move(o)), url(std::move(u)), store(s), timer(ex),
        random(std::random_device{}()) {}
  asio::any_io_executor executor;
  RegisterOptions options;
  GatewayUrl url;
  std::shared_ptr<http::ssl::context> tls;  // an https gateway: what its certificate is checked with
  const ReadingStore& store;
  asio::steady_timer timer;
  std::minstd_rand random;
  bool stopped = false;
  std::string id;
  bool failing = false;  // the last attempt failed (log transitions, not every retry)
  std::atomic<unsigned> registrations{0}, heartbeats{0}, failures{0};

  milliseconds backoff(unsigned failures) {
    auto d = options.backoff_min;
    for (unsigned i = 0; i < failures && d < options.backoff_max; ++i) d *= 2;
    d = std::min(d, options.backoff_max);
    // +-20% so that a fleet of agents does not knock on a restarted gateway all at once.
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return milliseconds(static_cast<long long>(static_cast<double>(d.count()) * jitter(random)));
  }

  std::string registration_text() const {
    auto reading = store.latest();
    return json::serialize(registration_body(options, reading ? *reading : Reading{}));
  }
  std::string heartbeat_text() const {
    auto reading = store.latest();
    return json::serialize(heartbeat_body(reading ? *reading : Reading{}));
  }

  void note_failure(std::string_view what, const PostResult& r) {
    std::string why = r.ec          ? http::error_text(r.ec, url.host)
                      : r.status == 0 ? r.body
                                      : "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
    if (!failing) spdlog::warn("agent: {} {} failed: {} (retrying with backoff)", what, url.host_header(), why);
    else spdlog::debug("agent: {} failed again: {}", what, why);
    failing = true;
    ++failures;
  }
  void note_success() {
    if (failing) spdlog::info("agent: gateway {} reachable again", url.host_header());
    failing = false;
  }
};

namespace {

// One POST of a JSON body on a fresh connection (a heartbeat every few seconds does not need
// pooling), bounded by `timeout` per step; over TLS when `tls` is set.
http::awaitable<PostResult> post_json(const GatewayUrl& url, std::shared_ptr<http::ssl::context> tls,
                                      const std::string& target, std::string body, const std::string& token,
                                      milliseconds timeout) {
  PostResult out;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  std::string service = std::to_string(url.port);
  auto [rec, endpoints] = co_await resolver.async_resolve(url.host, service, http::use_nothrow);
  if (rec) {
    out.ec = rec;
    co_return out;
  }
  http::Stream stream = tls ? http::Stream(beast::tcp_stream(executor), tls) : http::Stream(executor);
  if (stream.tls()) {
    if (auto pec = http::prepare_client(*stream.tls(), url.host)) {
      out.ec = pec;
      co_return out;
    }
  }
  stream.expires_after(timeout);
  auto [cec, ep] = co_await stream.lowest().async_connect(endpoints, http::use_nothrow);
  if (cec) {
    out.ec = cec;
    co_return out;
  }
  if (auto* s = stream.tls()) {
    auto [hec] = co_await s->async_handshake(http::ssl::stream_base::client, http::use_nothrow);
    if (hec) {
      out.ec = http::handshake_error(*s, hec);
      co_return out;
    }
  }
  http::BeastRequest req{bhttp::verb::post, target, 11};
  req.set(bhttp::field::host, url.host_header());
  req.set(bhttp::field::user_agent, "hydra-agent");
  req.set(bhttp::field::content_type, "application/json");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();
  stream.expires_after(timeout);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, http::use_nothrow);
  if (wec) {
    out.ec = wec;
    co_return out;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1u << 20);
  stream.expires_after(timeout);
  auto [ec, rn] = co_await bhttp::async_read(stream, buffer, parser, http::use_nothrow);
  if (ec) {
    out.ec = ec;
    co_return out;
  }
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  if (auto* s = stream.tls()) {
    stream.expires_after(std::chrono::seconds(1));
    co_await s->async_shutdown(http::use_nothrow);
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return out;
}

bool success(const PostResult& r) { return !r.ec && r.status >= 200 && r.status < 300; }

}  // namespace

Registrar::Registrar(asio::any_io_executor executor, RegisterOptions options, const ReadingStore& store) {
  auto url = parse_gateway_url(options.gateway);
  if (!url) throw std::invalid_argument("--register: expected http(s)://HOST[:PORT][/PATH], got \"" + options.gateway + "\"");
  std::shared_ptr<http::ssl::context> tls;
  if (url->tls) {
    std::string error;
    tls = http::make_client_context(options.gateway_ca, error);
    if (!tls) throw std::invalid_argument("--gateway-ca: " + error);
  }
  if (options.heartbeat.count() <= 0) throw std::invalid_argument("--heartbeat-ms must be positive");
  if (options.backoff_min.count() <= 0) options.backoff_min = milliseconds(1);
  if (options.backoff_max < options.backoff_min) options.backoff_max = options.backoff_min;
  state_ = std::make_shared<State>(executor, std::move(options), std::move(*url), store);
  state_->tls = std::move(tls);
}

Registrar::~Registrar() { stop(); }

void Registrar::start() { spawn(state_, milliseconds(0)); }

void Registrar::spawn(std::shared_ptr<State> state, milliseconds first_delay) {
  // The loop reports errors as values; should anything throw all the same (allocation), log
  // it and start over after a pause rather than take the agent down.
  auto done = [state](std::exception_ptr error) {
    if (!error || state->stopped) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("agent: registration loop failed: {}; restarting", e.what());
    } catch (...) {
      spdlog::error("agent: registration loop failed; restarting");
    }
    spawn(state, state->options.backoff_max);
  };
  asio::co_spawn(state->executor, loop(state, first_delay), std::move(done));
}

RegistrarStats Registrar::stats() const {
  return RegistrarStats{state_->registrations.load(), state_->heartbeats.load(), state_->failures.load()};
}

void Registrar::stop() {
  asio::post(state_->executor, [s = state_] {
    s->stopped = true;
    s->timer.cancel();
  });
}

http::awaitable<void> Registrar::loop(std::shared_ptr<State> s, milliseconds first_delay) {
  milliseconds delay = first_delay;
  unsigned failures = 0;
  while (!s->stopped) {
    if (delay.count() > 0) {
      s->timer.expires_after(delay);
      (void)co_await s->timer.async_wait(http::use_nothrow);  // cancelled by stop()
      if (s->stopped) break;
    }
    if (s->id.empty()) {
      std::string target = s->url.base_path + "/nodes/register";
      std::string body = s->registration_text();
      PostResult r = co_await post_json(s->url, s->tls, target, std::move(body), s->options.token, s->options.request_timeout);
      std::optional<std::string> id;
      if (success(r)) id = registration_id(r.body);
      if (id) {
        s->id = std::move(*id);
        s->note_success();
        ++s->registrations;
        spdlog::info("agent: registered with {} as node {}", s->url.host_header(), s->id);
        failures = 0;
        delay = s->options.heartbeat;
      } else {
        if (success(r)) {
          r.body = "the reply has no \"id\": " + r.body.substr(0, 200);
          r.status = 0;
        }
        s->note_failure("registration with", r);
        delay = s->backoff(failures++);
      }
      continue;
    }
    std::string target = s->url.base_path + "/nodes/" + percent_encode(s->id) + "/heartbeat";
    std::string body = s->heartbeat_text();
    PostResult r = co_await post_json(s->url, s->tls, target, std::move(body), s->options.token, s->options.request_timeout);
    if (success(r)) {
      s->note_success();
      ++s->heartbeats;
      failures = 0;
      delay = s->options.heartbeat;
    } else if (!r.ec && r.status == 404) {
      spdlog::info("agent: gateway {} no longer knows node {}; registering again", s->url.host_header(), s->id);
      s->id.clear();
      failures = 0;
      delay = milliseconds(0);
    } else {
      s->note_failure("heartbeat to", r);
      delay = s->backoff(failures++);
    }
  }
}

}  // namespace hydra::agent
