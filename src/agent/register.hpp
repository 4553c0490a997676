#pragma once
// Registration with a gateway: POST {gateway}/nodes/register once, then
// POST {gateway}/nodes/{id}/heartbeat with the latest reading every `heartbeat`. A 404
// heartbeat (the gateway forgot the node) registers again; failures retry with exponential
// backoff. Runs as a coroutine on the agent's io_context; never throws once started.
#include "agent/sampler.hpp"
#include "http/types.hpp"

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::agent {

// "http://host[:port][/prefix]" (port 80 by default) or "https://..." (port 443 by default;
// the gateway's certificate is verified for `host`).
struct GatewayUrl {
  std::string host;       // name or literal address, brackets removed
  uint16_t port = 80;
  bool tls = false;
  std::string base_path;  // "" or "/prefix" (no trailing '/')
  std::string host_header() const;
};
std::optional<GatewayUrl> parse_gateway_url(std::string_view text);

struct RegisterOptions {
  std::string gateway;    // --register URL
  std::string node_url;   // the Ollama URL this agent stands beside
  std::string agent_url;  // where the gateway reaches this agent
  std::string name;       // shown by the gateway; the host name
  std::string token;      // sent as "Authorization: Bearer TOKEN" when not empty
  std::string gateway_ca; // https gateway: PEM CA file to verify it with; empty: the system's CAs
  std::chrono::milliseconds heartbeat{5000};
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds request_timeout{5000};
};

// The bodies sent (plain functions: no JSON initialisers inside coroutines).
boost::json::object registration_body(const RegisterOptions& options, const Reading& reading);
boost::json::object heartbeat_body(const Reading& reading);
// The node id from a registration reply ({"id": "..."} or a number); nullopt when absent.
std::optional<std::string> registration_id(std::string_view reply_body);

// What the loop has done so far (for logs and tests).
struct RegistrarStats {
  unsigned registrations = 0;  // successful registrations
  unsigned heartbeats = 0;     // heartbeats answered 2xx
  unsigned failures = 0;       // attempts that failed (connection errors, non-2xx but 404 heartbeats)
};

class Registrar {
public:
  // Throws std::invalid_argument when options.gateway is not a usable http(s):// URL, or
  // its CA file is unusable.
  Registrar(http::asio::any_io_executor executor, RegisterOptions options, const ReadingStore& store);
  ~Registrar();
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  // Starts the register/heartbeat loop. stop() ends it at its next wait.
  void start();
  void stop();
  RegistrarStats stats() const;  // thread-safe

private:
  struct State;
  static void spawn(std::shared_ptr<State> state, std::chrono::milliseconds first_delay);
  static http::awaitable<void> loop(std::shared_ptr<State> state, std::chrono::milliseconds first_delay);
  std::shared_ptr<State> state_;
};

// The first up, non-loopback IPv4 address of this machine, else "127.0.0.1".
std::string primary_ipv4();

}  // namespace hydra::agent
