#pragma once
// What several gateways share through one Redis (cluster.redis_url): membership, registered
// nodes, ejections, slot leases, per-key limits, orchestration runs, stats, and a pub/sub
// channel for what must travel at once. Each operation is one command or one Lua script
// (scripts.hpp has the key layout); none throws, and each says when Redis did not answer
// (nullopt / false), so the caller goes on with its local view. Two connections: one for
// commands, one subscribed to the channel. Awaiting callers resume on their own executor.
#include "state/redis_link.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hydra::state {

struct SharedSettings {
  std::string prefix = "hydra:";
  std::string gateway_id;                       // this gateway's ("host:port" unless set)
  std::chrono::milliseconds lease_ttl{10'000};  // a silent gateway's leases return after this
  std::chrono::milliseconds timeout{250};       // per command: then this gateway goes on alone
};

// One message on the channel: "<kind>\t<gateway>\t<body>".
struct Message {
  std::string kind;     // node+ node- eject freed request
  std::string gateway;  // who sent it
  std::string body;
};
std::string encode(const Message& m);
std::optional<Message> decode(std::string_view text);

// What one beat returns: the gateway mirrors it.
struct BeatView {
  std::string epoch;  // changes when Redis lost its data
  std::string previous;  // this gateway's info as Redis had it before this beat ("" if none)
  struct Member {
    std::string id, info;  // info: the gateway's JSON (url, version, started)
  };
  std::vector<Member> members;            // the live gateways, this one included
  std::map<std::string, int> elsewhere;   // node id -> slots the other gateways hold there
  struct Stored {
    std::string id, value;  // registered node: its JSON; ejection: "<gateway>\t<reason>"
    int64_t ttl_ms = 0;
  };
  std::vector<Stored> nodes, ejects;
};
// Reads the beat script's JSON; nullopt when it is not that.
std::optional<BeatView> parse_beat(std::string_view json);

// How a node's slots are split among gateways while Redis is unreachable: `gateways` sorted
// ids, this one at `rank`; each gets slots / n, and the remainder goes to the first ones
// counted from a place that depends on the node, so no gateway gets every remainder. At least
// one each (a node with fewer slots than gateways is overcommitted rather than unusable).
int degraded_share(int slots, std::size_t gateways, std::size_t rank, std::string_view node);

class Shared {
public:
  Shared(RedisUrl url, SharedSettings settings);
  const SharedSettings& settings() const { return settings_; }
  bool up() const { return link_.up(); }
  uint64_t errors() const { return link_.errors(); }
  // Commands sent (awaited or not) since start.
  uint64_t round_trips() const { return round_trips_.load(std::memory_order_relaxed); }

  // Messages from the other gateways (this one's own are dropped), on the subscriber's thread.
  void listen(std::function<void(Message)> handler);
  void publish(const std::string& kind, const std::string& body);

  // Renews this gateway (info: its JSON) and reads what it mirrors.
  http::awaitable<std::optional<BeatView>> beat(std::string info, std::string epoch_candidate);
  // This gateway shuts down: the others stop counting it (and what it held) at their next beat,
  // not lease_ttl later. `instance`: this process's, named in its info. True if it left.
  http::awaitable<bool> leave(std::string instance);

  // Registered nodes: the JSON is what the gateway needs to add the node; it lives `ttl`.
  http::awaitable<bool> put_node(std::string id, std::string json, std::chrono::milliseconds ttl);
  http::awaitable<bool> drop_node(std::string id);
  http::awaitable<bool> eject(std::string id, std::string reason, std::chrono::milliseconds for_how_long);

  // Slot leases. acquire(): nullopt when Redis did not answer.
  struct Acquired {
    bool granted = false;
    int elsewhere = 0;  // slots the other live gateways hold on the node
  };
  http::awaitable<std::optional<Acquired>> acquire(std::string node, int limit);
  void release(const std::string& node);  // and tells the others a slot is free there
  void hold(const std::string& node);     // counted without a check (per-node operations)
  void restore(const std::map<std::string, int>& fields);  // "node:<id>"/"key:<name>" -> count

  // Per-key limits across gateways: nullopt when Redis did not answer; else "" (admitted: a
  // place taken when max_concurrent > 0, given back by finish_key()), or why not.
  struct KeyVerdict {
    std::string refusal;  // "", "rpm", "concurrency"
    int64_t retry_ms = 0;
    int64_t rpm_used = -1;  // admitted with an rpm limit: the key's requests in the window now
    std::string member;     // admitted with an rpm limit: its entry in the window (take_back_key)
  };
  http::awaitable<std::optional<KeyVerdict>> admit_key(std::string name, int64_t rpm, int64_t max_concurrent);
  void finish_key(const std::string& name);
  // An admitted request that does not count after all (a model the key may not use): its entry
  // leaves the key's rpm window.
  void take_back_key(const std::string& name, const std::string& member);

  // Orchestration runs: any gateway reads any run.
  void put_run(const std::string& id, std::string json);
  http::awaitable<std::optional<std::string>> get_run(std::string id);

  // This gateway's /stats (kept 3 s, renewed every beat), and every live gateway's.
  void put_stats(std::string json);
  http::awaitable<std::optional<std::vector<std::pair<std::string, std::string>>>> all_stats();

private:
  http::awaitable<RedisReply> run(std::vector<std::string> argv);  // counted in round_trips()
  void send(std::vector<std::string> argv);                         // likewise, not waited for
  // EVAL of a script with no KEYS and these ARGV.
  template <class... A>
  static std::vector<std::string> script(const std::string& text, A&&... args) {
    return words("EVAL", text, "0", std::forward<A>(args)...);
  }
  std::string ttl() const { return std::to_string(settings_.lease_ttl.count()); }

  SharedSettings settings_;
  std::string channel_;
  RedisLink link_;
  RedisLink subscriber_;
  std::atomic<uint64_t> round_trips_{0};
  std::atomic<uint64_t> next_member_{0};
};

}  // namespace hydra::state
