// Fuzz target: addresses a user or a node gives: node URLs with their capacity suffix
// (src/cluster/node_info.cpp parse_node_url) and listen endpoints (src/http/server.cpp
// parse_endpoint). A parsed node URL must parse again from its own url() to the same id; its
// configured capacity goes through derive_resources as src/cluster/cluster.cpp passes it.
#include "cluster/node_info.hpp"
#include "http/server.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hydra;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto node = cluster::parse_node_url(text)) {
    auto again = cluster::parse_node_url(node->url());
    if (!again || again->id() != node->id()) __builtin_trap();
    cluster::NodeView view;
    view.id = node->id();
    (void)cluster::derive_resources(view, std::nullopt, node->vram_gb, node->ram_gb);
  }
  (void)http::parse_endpoint(text);
  return 0;
}
