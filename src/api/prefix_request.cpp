#include "api/prefix_request.hpp"

#include "api/ollama_scan.hpp"

#include "common/duration.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <unordered_map>

namespace hydra::api {

namespace json = boost::json;

namespace {

// The key the index records: a request without one still takes a slot's place.
const routing::PrefixKey& key_of(const PrefixFacts& facts) {
  static const routing::PrefixKey none;
  return facts.key ? *facts.key : none;
}

}  // namespace

namespace {

// A generation's target, or null: nothing to key.
bool generation(std::string_view target, bool& chat) {
  chat = target == "/api/chat";
  return chat || target == "/api/generate";
}

// Whether a body of this size is keyed: one that holds a whole block, and not one so big it
// carries images (parsing it would hold it twice).
bool keyable(std::size_t body_size) { return body_size >= routing::kPrefixBlock && body_size <= kPrefixBodyLimit; }

PrefixFacts read_prefix(bool chat, const OllamaFacts& body) {
  PrefixFacts facts;
  facts.generates = true;  // an empty prompt (a load) takes no slot, but is rare enough to count
  routing::PrefixKeyBuilder builder;
  if (chat) {
    if (!body.messages_array) return facts;
    for (const auto& m : body.messages) builder.add(m.role, m.content);
  } else {
    if (!body.system.empty()) builder.add("system", body.system);
    builder.add("user", body.prompt);
  }
  routing::PrefixKey key = builder.finish();
  if (!key.empty()) facts.key = std::make_shared<routing::PrefixKey>(std::move(key));
  const KeepAlive keep = body.keep_alive.value_or(KeepAlive{false, std::chrono::minutes(5)});
  facts.keep_alive = keep.forever ? Nanos(-1) : keep.duration;
  return facts;
}

}  // namespace

bool keys_prefixes(const Gateway& gw) { return gw.policy == routing::Policy::scored && gw.weights.prefix > 0; }

PrefixFacts prefix_of(std::string_view target, const OllamaFacts& body, std::size_t body_size) {
  bool chat = false;
  if (!generation(target, chat)) return {};
  if (!keyable(body_size)) return PrefixFacts{true, nullptr, std::chrono::minutes(5)};
  return read_prefix(chat, body);
}

PrefixFacts prefix_of(const Upstream& upstream) {
  bool chat = false;
  if (!generation(upstream.target, chat)) return {};
  if (!keyable(upstream.body.size())) return PrefixFacts{true, nullptr, std::chrono::minutes(5)};
  OllamaFacts facts;
  if (scan_ollama_request(upstream.body, true, facts)) return read_prefix(chat, facts);
  boost::system::error_code ec;
  // Read and dropped here: a small body's tree lives in this buffer, without allocations.
  unsigned char scratch[4096];
  json::monotonic_resource memory(scratch, sizeof scratch);
  json::value parsed = json::parse(upstream.body, ec, &memory);
  const json::object* body = ec ? nullptr : parsed.if_object();
  if (!body) return PrefixFacts{true, nullptr, std::chrono::minutes(5)};
  return read_prefix(chat, facts_of(OllamaFields(*body), {}, true));
}

void prefix_sent(Gateway& gw, const cluster::NodeView& node, const std::string& model, const PrefixFacts& facts,
                 const std::string& session) {
  // Pinned now, before the reply reaches the client: its next turn may be routed (on another
  // worker) before this request's accounting reaches the control thread.
  std::unique_lock writing(gw.prefix_lock);
  if (!session.empty()) gw.sessions.served(session, node.id, std::chrono::steady_clock::now());
  if (!facts.generates) return;
  gw.prefix_index.record(node.id, model, key_of(facts), cluster::slots_for(node, model).slots, facts.keep_alive,
                         std::chrono::steady_clock::now());
}

void prefix_served(Gateway& gw, const std::string& node_id, const std::string& model, const PrefixServed& served) {
  const auto now = std::chrono::steady_clock::now();
  if (served.keyed) gw.telemetry.metrics.prefix(served.matched_tokens);
  std::unique_lock writing(gw.prefix_lock);
  if (served.moved.generates)
    gw.prefix_index.record(node_id, model, key_of(served.moved), served.moved_slots, served.moved.keep_alive, now);
  if (!served.session.empty()) gw.sessions.served(served.session, node_id, now);
  if (now - gw.prefix_swept < std::chrono::seconds(1)) return;
  gw.prefix_swept = now;
  auto snapshot = gw.cluster.snapshot();
  std::unordered_map<std::string_view, const cluster::NodeView*> by_id;
  for (const auto& n : snapshot->nodes) by_id.emplace(n.id, &n);
  gw.prefix_index.sweep(now, [&](const std::string& node, const std::string& m) {
    auto it = by_id.find(node);
    if (it == by_id.end() || it->second->removed) return false;
    const cluster::NodeView& n = *it->second;
    // Resident, or being loaded by a request of this gateway's (not in /api/ps yet).
    return n.resident_model(m) != nullptr || std::find(n.loading.begin(), n.loading.end(), m) != n.loading.end();
  });
}

}  // namespace hydra::api
