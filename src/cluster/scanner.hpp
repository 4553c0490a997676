#pragma once
// Subnet scan: find Ollama nodes (and llama.cpp servers) on a list of IPv4 ranges.
//
// Every (address, port) pair inside the allowed ranges gets a non-blocking TCP connect with a
// short timeout, a bounded number at once. An open Ollama port is admitted only when
// GET /api/version answers 200 with JSON holding a "version" string; otherwise GET /health
// answering 200 or 503 marks a llama-server. Redirects are never followed (http::fetch does
// not follow any), so a 3xx is simply not admitted. An open rpc port is listed as a llama.cpp
// rpc-server endpoint without any HTTP. Addresses outside the allowed ranges are never
// contacted. Each admitted Ollama node is also asked GET /api/tags for the digests of its
// models, used to spot one node reached by two addresses (see group_duplicates).
#include "cluster/cidr.hpp"
#include "http/client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace hydra::cluster {

struct ScanOptions {
  std::vector<Cidr> targets;
  std::vector<uint16_t> ports{11434};  // Ollama (or llama-server) HTTP ports
  std::vector<uint16_t> rpc_ports{};   // llama.cpp rpc-server ports (50052 by default there)
  std::chrono::milliseconds connect_timeout{300};
  std::chrono::milliseconds request_timeout{2'000};  // each confirming HTTP request
  std::size_t concurrency = 256;                      // connects in flight at once
  std::vector<Cidr> allowed = default_allowed();
  // This machine's own addresses: a loopback answer and an answer on one of these that look
  // alike are reported as one node. Empty: no such merging.
  std::vector<Ipv4> local_addresses;
};

enum class ServerKind { ollama, llama_server };
const char* to_string(ServerKind kind);

struct FoundNode {
  std::string url;  // "http://ip:port"
  Ipv4 address;
  uint16_t port = 0;
  ServerKind kind = ServerKind::ollama;
  std::string version;               // from /api/version; empty for llama-server
  double latency_ms = 0;             // round trip of the confirming request
  std::vector<std::string> digests;  // model digests from /api/tags, sorted
  std::vector<std::string> also_at;  // other URLs found to be the same node
};

struct RpcEndpoint {
  Ipv4 address;
  uint16_t port = 0;
  std::string id() const;  // "ip:port"
};

struct ScanResult {
  std::vector<FoundNode> nodes;   // ordered by address, then port
  std::vector<RpcEndpoint> rpc;   // ordered by address, then port
  std::vector<std::string> rejected;  // open HTTP ports that are not Ollama: "ip:port: why"
  std::vector<std::string> gateways;  // Hydra gateways ("ip:port"): they answer like Ollama but
                                      // are never nodes (a gateway routing to itself loops)
  std::size_t addresses_probed = 0;   // inside the allowed ranges
  std::size_t addresses_skipped = 0;  // outside them: never contacted
  std::size_t open_ports = 0;
  double elapsed_ms = 0;
  std::string error;  // the targets could not be listed (too many addresses)
};

// Runs the scan. `pool` may be null (a private pool is used); with a pool, connections to
// the admitted nodes stay in it. The executor must be single-threaded (or a strand).
http::awaitable<ScanResult> scan(boost::asio::any_io_executor executor, http::ConnectionPool* pool,
                                 ScanOptions options);

// --- duplicates ---------------------------------------------------------------------------
// Exact identity of a node is impossible to learn in general. The rule used: two answers are
// the same node when they share the port, the version and the set of model digests (both
// possibly empty), one address is loopback and the other is one of this machine's own
// addresses (`local_addresses`). Nothing else is merged.
struct Candidate {
  Ipv4 address;
  uint16_t port = 0;
  std::string version;
  std::vector<std::string> digests;  // in any order
};
// Groups of indices into `candidates`, each group one node, in order of first appearance. The
// first index of a group is the address to use: the non-loopback one when there is one.
std::vector<std::vector<std::size_t>> group_duplicates(const std::vector<Candidate>& candidates,
                                                       const std::vector<Ipv4>& local_addresses);

// Pure parsers of the confirming replies.
std::optional<std::string> parse_version(std::string_view body);           // /api/version
bool names_hydra(std::string_view body);  // a Hydra gateway's /api/version or /health ("hydra" field)
bool looks_like_llama_health(int status, std::string_view body);            // llama-server's /health
std::optional<std::vector<std::string>> parse_digests(std::string_view body);  // /api/tags, sorted

// Why a probe fails a node that names itself a Hydra gateway (names_hydra): requests sent there
// would come back through this gateway, or go round two of them.
inline constexpr const char* kGatewayIsNotANode =
    "a Hydra gateway, not an Ollama node: Hydra does not route through gateways (list the nodes behind it instead)";

// "11434", "11434,11435", "11430-11439" or a mixture: the ports in order, each once, at most
// kMaxScanPorts; `error` says what is wrong otherwise.
inline constexpr std::size_t kMaxScanPorts = 64;
struct PortList {
  std::vector<uint16_t> ports;
  std::string error;
};
PortList parse_port_list(std::string_view text);

}  // namespace hydra::cluster
