#pragma once
// `hydra agent`: serve this machine's readings on GET /hydra/agent and, optionally, register
// with a gateway and send heartbeats.
#include "agent/collector.hpp"

#include <chrono>
#include <string>

namespace hydra::agent {

struct AgentOptions {
  std::string listen = "0.0.0.0:11435";
  std::chrono::milliseconds interval{1000};  // between readings
  CollectorOptions collector;
  // Registration (off when `register_url` is empty).
  std::string register_url;
  std::string node_url;  // empty: http://<primary IPv4>:11434
  std::string token;
  std::string gateway_ca;  // PEM CA file an https:// gateway is verified with; empty: the system's CAs
  std::string tls_cert;    // both set: GET /hydra/agent is served over HTTPS
  std::string tls_key;
  std::chrono::milliseconds heartbeat{5000};
  // llama.cpp (issue #21): the llama-server binary the gateway may ask this agent to start
  // (with --token), and the address those servers listen on (empty: this agent's own).
  std::string llama_server;
  std::string llama_host;
  std::string log_level = "info";
};

// Throws std::runtime_error for unusable options (bad --listen, bad --register URL) before
// anything starts. Serves until SIGINT/SIGTERM; prints one stdout line
// "agent listening on http://ADDR:PORT" once the port is bound.
int run(const AgentOptions& options);
// What is wrong with the options (a flag's value), in a sentence naming the flag; empty: fine.
std::string bad_option(const AgentOptions& options);

}  // namespace hydra::agent
