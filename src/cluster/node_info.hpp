#pragma once
// Reading what nodes report (/api/tags, /api/ps) into snapshot entries. Pure functions.
#include "cluster/snapshot.hpp"

#include <optional>
#include <string_view>

namespace hydra::cluster {

// Parsed model lists; nullopt when the body is not the expected shape.
std::optional<std::vector<ModelEntry>> parse_tags(std::string_view body);
std::optional<std::vector<ResidentEntry>> parse_ps(std::string_view body);

// A node URL as given by a user: "http://host:port", "https://host:port", "host:port" or
// "host" (port 11434; 443 for https without a port).
// Capacity may follow a '#': "http://10.0.0.5:11434#vram=24,ram=64,slots=4,agent=11435"
// (GB, GB, parallel generations, port of the node's `hydra agent`), and what it runs:
// "#kind=llama-server" (else found by probing).
struct NodeUrl {
  std::string host;
  uint16_t port = 11434;
  bool tls = false;         // https: the node (or a proxy before it) speaks TLS
  double vram_gb = -1;  // < 0: not configured
  double ram_gb = -1;
  int slots = 0;        // 0: not configured
  uint16_t agent_port = 0;  // 0: the default agent port
  std::optional<NodeKind> kind;  // configured; else found by probing
  std::string id() const;   // "host:port"
  std::string url() const;  // "http://host:port" or "https://host:port"
};
std::optional<NodeUrl> parse_node_url(std::string_view text);

// A `hydra agent` reading (GET /hydra/agent) as resources; nullopt when unreadable.
std::optional<Resources> parse_agent(std::string_view body);
std::optional<Resources> parse_agent(const boost::json::object& reading);

// Resources from what the node reports of its resident models (/api/ps), on top of any
// configured or agent-reported totals.
Resources derive_resources(const NodeView& node, const std::optional<Resources>& agent,
                           double configured_vram_gb, double configured_ram_gb);

}  // namespace hydra::cluster
