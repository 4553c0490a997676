// Membership: nodes that register, beat, are extended or removed, and the slots removed nodes
// leave (reused once nothing refers to them). The control thread's, like the rest of Cluster.
#include "cluster/cluster.hpp"

#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>
#include <algorithm>

namespace hydra::cluster {

namespace asio = boost::asio;

std::size_t Cluster::register_node(const Registration& r, Nanos grace, NodeSource source) {
  reclaim();  // removed nodes nothing refers to any more: their slots are reused first
  std::size_t index = find(r.url.id()).value_or(nodes_.size());
  if (index == nodes_.size()) {
    index = add_resolved(r.url, r.url.host, r.url.slots > 0 ? r.url.slots : 4, source);
    spdlog::info("node {} {}{}", nodes_[index].id, to_string(source), r.name.empty() ? "" : " as " + r.name);
  } else if (nodes_[index].removed) {
    std::erase(removed_, index);
    nodes_[index].removed = false;
    nodes_[index].health = Health::unknown;
    nodes_[index].source = source;
    runtime_[index]->refresh_wanted = true;
    spdlog::info("node {} {} again", nodes_[index].id, to_string(source));
  }
  Runtime& rt = *runtime_[index];
  if (!r.name.empty()) {
    nodes_[index].name = r.name;
    rt.name_given = true;
  }
  if (nodes_[index].source != NodeSource::configured) rt.registered_until = clock_.now() + grace;
  if (r.resources) take_pushed(index, *r.resources);  // shown at once, also while the node is unreachable
  publish(index);
  publish_now();  // the caller reads the node in the snapshot next (its reply, `hydra discover`)
  start_loop(index);
  rt.wake.cancel();  // probe it now
  return index;
}

bool Cluster::heartbeat(const std::string& id, std::optional<Resources> resources, Nanos grace) {
  auto index = find(id);
  if (!index || nodes_[*index].removed) return false;
  NodeView& n = nodes_[*index];
  Runtime& rt = *runtime_[*index];
  if (n.source != NodeSource::configured) rt.registered_until = clock_.now() + grace;
  n.live->heartbeats.fetch_add(1, std::memory_order_relaxed);
  if (resources && take_pushed(*index, std::move(*resources))) publish(*index);  // same figures: nothing to publish
  return true;
}

bool Cluster::take_pushed(std::size_t index, Resources resources) {
  Runtime& rt = *runtime_[index];
  rt.pushed = std::move(resources);
  Resources derived = derive_resources(nodes_[index], rt.pushed, rt.vram_gb, rt.ram_gb);
  if (derived == nodes_[index].resources) return false;
  nodes_[index].resources = std::move(derived);
  return true;
}

bool Cluster::extend(const std::string& id, Nanos grace) {
  auto index = find(id);
  if (!index || nodes_[*index].removed) return false;
  if (nodes_[*index].source != NodeSource::configured) runtime_[*index]->registered_until = clock_.now() + grace;
  return true;
}

bool Cluster::remove_node(const std::string& id) {
  auto index = find(id);
  if (!index || nodes_[*index].removed) return false;
  forget(*index);
  pool_.drop(endpoint(*index));
  runtime_[*index]->wake.cancel();  // its probe loop sees `removed` and ends
  spdlog::info("node {} removed", id);
  reclaim();       // (publishes the removal first)
  publish_now();  // gone from the snapshot when the caller hears so
  return true;
}

void Cluster::forget(std::size_t index) {
  NodeView& n = nodes_[index];
  n.removed = true;
  // What it had is of no use any more; its identity stays until the slot is freed, for the
  // requests that may still hold its index.
  n.models = {};
  n.resident = {};
  n.loading = {};
  n.last_error = {};
  runtime_[index]->pushed.reset();
  removed_.push_back(index);
  publish(index);
}

void Cluster::reclaim() {
  if (removed_.empty()) return;
  // A removal not published yet is published first: a slot is judged by the snapshot that
  // shows its node removed.
  if (std::any_of(removed_.begin(), removed_.end(), [&](std::size_t i) { return dirty_[i]; })) publish_now();
  auto current = snapshot_.load();
  bool freed = false;
  std::erase_if(removed_, [&](std::size_t i) {
    const auto& live = nodes_[i].live;
    const bool published = i < current->nodes.size() && current->nodes[i].live == live;
    // Only nodes_ and the current snapshot's copy of the node (which shows it removed, and
    // which later snapshots may share) hold its counters: no request, no snapshot from before
    // its removal. And none of our coroutines holds its runtime.
    if (live.use_count() != 1 + (published ? 1 : 0) || runtime_[i].use_count() != 1) return false;
    by_id_.erase(nodes_[i].id);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(nodes_[i].ip, ec);
    if (!ec) pool_.drop({address, nodes_[i].port});  // a connection a late probe gave back
    NodeView vacant;
    vacant.index = i;
    vacant.removed = true;
    nodes_[i] = std::move(vacant);
    dirty_[i] = true;
    runtime_[i].reset();
    free_.push_back(i);
    freed = true;
    return true;
  });
  if (!freed) return;
  // Free slots at the end go away: the node list is as long as the fleet again.
  while (!runtime_.empty() && !runtime_.back()) {
    std::erase(free_, runtime_.size() - 1);
    runtime_.pop_back();
    nodes_.pop_back();
    dirty_.pop_back();
  }
  publish();
}

std::vector<std::string> Cluster::registered_ids() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_)
    if (!n.removed && n.source == NodeSource::registered) out.push_back(n.id);
  return out;
}

}  // namespace hydra::cluster
