// Cluster's probes of llama.cpp llama-server nodes (the Ollama ones are in cluster.cpp).
#include "cluster/cluster.hpp"
#include "cluster/llama_info.hpp"
#include "cluster/scanner.hpp"
#include "http/tls.hpp"

#include <spdlog/spdlog.h>

namespace hydra::cluster {

using http::bhttp::verb;

http::awaitable<bool> Cluster::probe_kind(std::size_t index, http::Peer peer) {
  auto r = co_await http::fetch(pool_, peer, nodes_[index].host_header, verb::get, "/props", "", settings_.probe_timeout);
  const bool loading = !r.ec && r.status == 503 && r.body.find("unavailable_error") != std::string::npos;
  if (!loading && (r.ec || r.status != 200 || !parse_llama_props(r.body))) co_return false;
  NodeView& node = nodes_[index];
  node.kind = NodeKind::llama_server;
  spdlog::info("node {} is a llama.cpp llama-server (it answers /props, not /api/version{})", node.id,
               loading ? "; loading its model" : "");
  runtime_[index]->refresh_wanted = true;
  publish(index);
  co_await probe_llama(index, peer);
  co_return true;
}

http::awaitable<void> Cluster::probe_llama(std::size_t index, http::Peer peer) {
  auto r = co_await http::fetch(pool_, peer, nodes_[index].host_header, verb::get, "/health", "", settings_.probe_timeout);
  NodeView& node = nodes_[index];
  if (!r.ec && r.status == 503) {
    // Loading its model: not a failure, not routable yet.
    if (node.health != Health::unknown || node.last_error != "loading model") {
      if (node.health != Health::unknown) spdlog::info("node {} (llama-server) is loading its model", node.id);
      node.health = Health::unknown;
      node.last_error = "loading model";
      publish(index);
    }
    co_return;
  }
  if (r.ec || r.status != 200) {
    probe_failed(index, peer, r.ec ? http::error_text(r.ec, node.tls_name)
                                   : "status " + std::to_string(r.status) + " " + r.body.substr(0, 120));
    co_return;
  }
  if (names_hydra(r.body)) {  // a gateway's /health (configured as `#kind=llama-server`)
    probe_failed(index, peer, kGatewayIsNotANode);
    co_return;
  }
  const bool was_down = !node.routable();
  const Health before = node.health;
  on_probe_success(node, clock_.now());
  if (node.last_error == "loading model") node.last_error.clear();
  if (was_down && node.routable()) {
    spdlog::info("node {} is up (llama-server)", node.id);
    runtime_[index]->refresh_wanted = true;
  }
  if (node.health != before) publish(index);
  // Its busy slots, each probe (/slots; -1 when the server runs with --no-slots).
  auto slots = co_await http::fetch(pool_, peer, nodes_[index].host_header, verb::get, "/slots", "", settings_.probe_timeout);
  const int busy = !slots.ec && slots.status == 200 ? parse_llama_busy(slots.body) : -1;
  if (busy != nodes_[index].busy_reported) {
    nodes_[index].busy_reported = busy;
    publish(index);
  }
  if (runtime_[index]->refresh_wanted || clock_.now() >= runtime_[index]->models_due) co_await refresh_llama(index, peer);
}

http::awaitable<void> Cluster::refresh_llama(std::size_t index, http::Peer peer) {
  runtime_[index]->refresh_wanted = false;
  const std::string host = nodes_[index].host_header;
  auto models = co_await http::fetch(pool_, peer, host, verb::get, "/v1/models", "", settings_.probe_timeout);
  auto props = co_await http::fetch(pool_, peer, host, verb::get, "/props", "", settings_.probe_timeout);
  NodeView& node = nodes_[index];
  bool changed = false;
  if (!models.ec && models.status == 200)
    if (auto list = parse_llama_models(models.body); list && *list != node.models) {
      node.models = std::move(*list);
      node.resident = llama_resident(node.models);
      changed = true;
    }
  if (!props.ec && props.status == 200)
    if (auto p = parse_llama_props(props.body); p && (node.slots != p->total_slots || !node.slots_configured)) {
      node.slots = p->total_slots;  // --parallel: what it runs at once, known exactly
      node.slots_configured = true;
      changed = true;
    }
  if (node.version.empty()) {
    node.version = "llama-server";
    changed = true;
  }
  Resources resources = derive_resources(node, std::nullopt, runtime_[index]->vram_gb, runtime_[index]->ram_gb);
  if (resources != node.resources) {
    node.resources = resources;
    changed = true;
  }
  runtime_[index]->models_due = clock_.now() + settings_.models_interval;
  if (changed) publish(index);
}

}  // namespace hydra::cluster
