#pragma once
// An HTTP/1.1 server: an accept loop plus one coroutine per connection that reads requests
// with explicit limits and hands each to a Handler. Not thread-safe (but drain()): use it from
// the single-threaded io_context it was created on; a multi-threaded gateway has one per
// worker (listen(..., share_port)).
#include "http/exchange.hpp"
#include "http/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>
#include <functional>
#include <memory>

namespace hydra::http {

class ServerTls;

using Handler = std::function<awaitable<void>(Exchange&)>;
// Renders a server-level error body (bad framing, body too large) in the API's own shape;
// `target` is the request's, as far as it was read (may be empty).
using ErrorBody = std::function<std::string(bhttp::status, std::string_view message, std::string_view target)>;

// Why the server refuses a request's framing (ambiguous or unsupported: request smuggling
// vectors Beast 1.81 would accept or misread), or nullptr. Checked on the head, before the body:
// Beast's message on the slow path; a plain request (parse_plain_request) has its Host fields
// checked.
const char* framing_problem(const BeastRequest& req);
const char* framing_problem(const Request& req);

// Ollama's shape: {"error":"..."}.
std::string ollama_error_body(bhttp::status, std::string_view message);
// The API's own shape by path: OpenAI's {"error":{"message","type","param","code"}} under
// /v1/, Ollama's everywhere else.
std::string api_error_body(bhttp::status, std::string_view message, std::string_view target);

// A request the server refused before any handler saw it (413, 431, 408, 400): what had
// arrived of it (fields empty when its head had not).
struct Refused {
  int status = 0;
  std::string_view method, target;
  std::string_view request_id;  // its X-Request-Id, as the client sent it
  tcp::endpoint remote;
};
// Called on the connection's thread before the refusal goes out: it may add reply headers
// (X-Request-Id) and log the request.
using RefusalHook = std::function<void(const Refused&, Response&)>;

class Server {
public:
  Server(asio::any_io_executor executor, Handler handler, ServerLimits limits = {},
         ErrorBody error_body = api_error_body);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serve HTTPS: every connection from now on does a TLS handshake with `tls`'s current
  // certificate (shared with other servers; reloaded by its owner). Call before listen().
  void use_tls(std::shared_ptr<ServerTls> tls);
  bool tls() const;
  // Requests refused before a handler (413, 431, 408, 400) go through `hook`. Before listen().
  void on_refusal(RefusalHook hook);

  // How a listening socket shares its port: not at all; as the first of a process's servers
  // that share it (SO_REUSEPORT, one server per worker thread: the kernel spreads new
  // connections over them), which first makes sure no other socket holds the address, so that
  // a second gateway started on a taken port fails as it would without sharing instead of
  // quietly taking part of its traffic; or joining the first (the port it was given).
  enum class Share { none, first, join };
  // Binds and starts accepting. Port 0 picks a free port; the bound endpoint is returned.
  boost::system::result<tcp::endpoint> listen(const tcp::endpoint& endpoint, Share share = Share::none);
  // Stops accepting (new connections are refused); open connections carry on.
  void stop_listening();
  // Shutdown: stops accepting, and every reply from now on says `Connection: close` and ends
  // its connection, so clients with kept-alive connections go elsewhere. Safe from any
  // thread: the acceptor is closed on the server's own.
  void drain();
  bool listening() const;
  tcp::endpoint local_endpoint() const;
  // Connections accepted and not closed yet (safe to read from any thread).
  std::size_t open_connections() const;

private:
  struct State;
  std::shared_ptr<State> state_;
};

// "host:port" (or "[v6]:port") -> endpoint; the host must be a literal address or "localhost".
boost::system::result<tcp::endpoint> parse_endpoint(std::string_view text);

}  // namespace hydra::http
