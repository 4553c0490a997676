#pragma once
// Several gateways, one fleet (cluster.redis_url): this gateway's side of what they share
// through Redis (state/shared.hpp). It runs on the control thread:
// - a beat (every beat interval): renews this gateway's membership and leases, and mirrors
//   what Redis holds: the live gateways, the slots the others hold on each node
//   (NodeCounters::elsewhere), the registered nodes, the ejections, and puts /stats there;
// - the channel: registrations, removals and ejections from the others apply at once, a slot
//   freed elsewhere wakes a waiter here, their routing decisions and requests reach /events;
// - Redis unreachable: degraded. Each node's slots are split among the gateways last seen
//   (state::degraded_share) and counted locally; when Redis answers again, this gateway puts
//   back what it holds and what was registered through it meanwhile.
// A lone gateway (no redis_url) has no SharedSync: every pointer to it is null.
#include "common/clock.hpp"
#include "http/types.hpp"
#include "state/shared.hpp"

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace hydra::api {

struct Gateway;

class SharedSync {
public:
  SharedSync(Gateway& gw, state::Shared& shared, std::string public_url);
  // Starts the beat and the subscription. Control thread, once serving has begun.
  void start();
  // The end of the shutdown drain (control thread): this gateway leaves the shared state, so
  // the others stop counting it at once instead of after lease_ttl.
  http::awaitable<void> leave();

  // Admission (any thread): a slot taken here on `node` is confirmed with the other gateways.
  // True: keep it (also when Redis does not answer: the local shares decide then); false: the
  // others hold every slot there, and the node's `elsewhere` now says how many.
  http::awaitable<bool> confirm(std::size_t node, const std::string& model);
  void released(std::size_t node);  // a lease counted in Redis ended (any thread)
  bool hold(std::size_t node);      // a per-node operation's lease, counted unchecked; true if sent

  // Registration, on the control thread: mirrored to Redis, so that every gateway routes there.
  void registered(const std::string& id, boost::json::object body, Nanos grace);
  void renewed(const std::string& id, Nanos grace);
  void removed(const std::string& id);

  // Orchestration runs (control thread).
  void put_run(const std::string& id, std::string json);

  state::Shared& shared() { return shared_; }
  bool degraded() const { return degraded_; }
  // For /health and /nodes: {status, redis, gateway_id, gateways: [...], ...}.
  boost::json::object json() const;
  // Its Prometheus families (hydra_shared_*); `refused` = Admission::refused_elsewhere().
  std::string metrics(uint64_t refused) const;

private:
  http::awaitable<void> beat_loop();
  http::awaitable<void> beat_once();
  void apply(const state::BeatView& view);
  void degrade();
  void on_message(const state::Message& m);  // control thread
  http::awaitable<void> put_node(std::string id, Nanos grace);
  http::awaitable<void> drop_node(std::string id);
  // The leases this gateway holds that end with a release sent to Redis
  // (NodeCounters::counted_shared), put back when Redis answers again or lost them. Keys'
  // places are not: they end with their requests.
  void restore();
  std::string info() const;

  Gateway& gw_;
  state::Shared& shared_;
  std::string public_url_;
  std::string epoch_candidate_;
  std::string epoch_;          // as Redis last said
  std::vector<state::BeatView::Member> members_;  // the live gateways as last seen (this one too)
  std::atomic<bool> degraded_{true};  // until the first beat succeeds (read by workers)
  bool ever_up_ = false;
  uint64_t outages_ = 0;
  std::chrono::system_clock::time_point since_{};  // of the current state (up or degraded)
  std::string started_;  // when this gateway started (RFC 3339), as its beats tell the others
  std::map<std::string, std::string> bodies_;   // registered nodes this gateway knows: their stored JSON
  std::set<std::string> pending_;               // registrations being written now
  std::set<std::string> unsynced_;              // registered here while Redis did not answer
  std::set<std::string> dropped_;               // deleted here, not yet in Redis
  bool id_taken_ = false;                       // another process beats with this gateway's id
  int foreign_beats_ = 0;                       // beats in a row that found another process's info
  int own_beats_ = 0;                           // beats in a row that found this gateway's own info before them
};

}  // namespace hydra::api
