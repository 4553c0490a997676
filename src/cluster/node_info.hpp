#pragma once
// Reading what nodes report (/api/tags, /api/ps) into snapshot entries. Pure functions.
#include "cluster/snapshot.hpp"

#include <optional>
#include <string_view>

namespace hydra::cluster {

// Parsed model lists; nullopt when the body is not the expected shape.
std::optional<std::vector<ModelEntry>> parse_tags(std::string_view body);
std::optional<std::vector<ResidentEntry>> parse_ps(std::string_view body);

// A node URL as given by a user: "http://host:port", "host:port" or "host" (port 11434).
struct NodeUrl {
  std::string host;
  uint16_t port = 11434;
  std::string id() const;   // "host:port"
  std::string url() const;  // "http://host:port"
};
std::optional<NodeUrl> parse_node_url(std::string_view text);

}  // namespace hydra::cluster
