#pragma once
// The Lua scripts several gateways run in Redis. Each runs atomically, in one round trip, and
// names its keys from the prefix it is given (standalone Redis: the keys are not all passed as
// KEYS, so Redis Cluster is not supported). The key layout (p = cluster.redis_prefix):
//   p gws               set: gateway ids seen lately (pruned when their gw: key is gone)
//   p gw:<id>           string, PX lease_ttl: a live gateway's info (JSON), renewed every beat
//   p held:<id>         hash, PX lease_ttl: what a gateway holds: "node:<node id>" -> slots in
//                       use, "key:<name>" -> requests in progress; dies with the gateway
//   p epoch             string: set once per Redis lifetime; a new value means Redis lost its
//                       data and every gateway puts back what it holds
//   p nodes, p node:<id>     registered nodes: a set, and each node's JSON with PX = its grace
//   p ejects, p eject:<id>   ejections: a set, and "<gateway>\t<reason>" with PX = the backoff
//   p rpm:<key>         zset: the key's requests of the last minute (score: Redis time, ms)
//   p run:<id>          an orchestration run's JSON
//   p stats:<id>        a gateway's /stats, PX 3 s
//   p events            the pub/sub channel (state/shared.hpp's Message)
#include <string>

namespace hydra::state::scripts {

// ARGV: prefix, id, info, ttl_ms, epoch candidate. Renews the gateway and its holdings; returns
// JSON {epoch, previous (this id's info before this beat), members:[{id,info}],
// elsewhere:{node:slots}, nodes:[{id,json,ttl}],
// ejects:[{id,value,ttl}]}: everything a gateway mirrors once a beat.
extern const std::string beat;
// ARGV: prefix, id, node, limit, ttl_ms. Takes a slot when the live gateways together hold
// fewer than `limit`; returns "1 <held elsewhere>" or "0 <held elsewhere>".
extern const std::string acquire;
// ARGV: prefix, id, field ("node:<id>" or "key:<name>"), ttl_ms, channel, message. Gives one
// back; publishes the message (when not empty).
extern const std::string release;
// ARGV: prefix, id, field, ttl_ms. Counts one without a check (per-node operations).
extern const std::string hold;
// ARGV: prefix, id, key name, rpm, max_concurrent, member, ttl_ms. Returns "ok" (with rpm:
// "ok <requests in the window now>"), or
// "rpm <ms until a request leaves the window>" or "concurrency".
extern const std::string admit_key;
// ARGV: prefix, id, ttl_ms, then field, count pairs: what this gateway holds, put back after
// Redis lost it.
extern const std::string restore;
// ARGV: prefix. Returns JSON [{id, stats}] of the live gateways that published their stats.
extern const std::string stats;
// ARGV: prefix, id, instance. A gateway shutting down: its membership and what it holds go now,
// when the entry under its id is this process's (its info names `instance`). Returns 1 or 0.
extern const std::string leave;

}  // namespace hydra::state::scripts
