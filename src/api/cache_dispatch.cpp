// The response cache in front of the fleet: dispatch() answers from a tier when it can, joins
// an identical request already on its way (single-flight), or sends the request to the fleet
// (dispatch_to_fleet) and stores a complete reply. Whatever API the request came through, the
// cache holds the node's Ollama-native reply and replays it through the request's own sink.
#include "api/cache_semantic.hpp"
#include "api/cache_sink.hpp"
#include "api/dispatch.hpp"
#include "api/threading.hpp"

#include "common/model_name.hpp"
#include "memory/cache.hpp"

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;
using namespace http::asio::experimental::awaitable_operators;

namespace {

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the cache does with one request.
struct Plan {
  std::optional<memory::Family> family;  // nullopt: not a cached endpoint
  std::string key;                        // empty: bypass (`why`)
  std::string why;
  std::string model;
  bool want_stream = false;
  memory::RequestCachePolicy policy;
  std::optional<memory::SemanticQuestion> question;  // with the semantic tier: a single-turn question
  std::vector<float> vector;                          // its embedding, once asked for
};

// The model's digests as the fleet lists them, so a re-pulled model never meets old answers.
std::string digests_of(const Gateway& gw, const std::string& model) {
  auto snapshot = gw.cluster.snapshot();
  std::vector<std::string> found;
  for (const auto& h : snapshot->holders_of(model)) {
    const cluster::ModelEntry* m = snapshot->nodes[h.node].model(model);
    if (!m) continue;
    if (auto* d = m->raw.if_contains("digest"); d && d->is_string()) found.emplace_back(d->get_string());
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::string out;
  for (const auto& d : found) out += (out.empty() ? "" : ",") + d;
  return out;
}

// Whether `"word"` occurs in `text`. Looked for by the word's own first letter: a JSON body
// has a quote every few bytes, so searching for the quote compares at each of them.
bool quoted_in(std::string_view text, std::string_view word) {
  for (std::size_t at = text.find(word, 1); at != std::string_view::npos; at = text.find(word, at + 1))
    if (text[at - 1] == '"' && at + word.size() < text.size() && text[at + word.size()] == '"') return true;
  return false;
}

Plan plan_for(const Gateway& gw, const memory::Cache& cache, const DispatchRequest& request) {
  Plan p;
  if (request.upstream.method != http::bhttp::verb::post) return p;
  p.family = memory::family_of(request.upstream.target);
  if (!p.family) return p;
  if (const http::Exchange* ex = request.exchange)
    p.policy = memory::request_policy(ex->request()[http::bhttp::field::cache_control],
                                      ex->request()["X-Hydra-Cache-TTL"]);
  if (!p.policy.error.empty()) return p;
  // Most requests carry neither a temperature nor a seed: under the default mode they bypass
  // the cache, told without parsing the body a second time: by the handler that parsed it, else
  // by the words in its text (a prompt that merely contains them takes the slow path below,
  // which decides).
  const std::string_view text = request.upstream.body;
  auto names_sampling = [&] {
    return request.names_sampling ? *request.names_sampling : quoted_in(text, "temperature") || quoted_in(text, "seed");
  };
  if (cache.settings().mode == memory::Mode::deterministic && memory::streams(*p.family) && !names_sampling()) {
    p.why = "not deterministic (no options.temperature or seed)";
    return p;  // (a bypass needs no model name: it is neither read nor stored)
  }
  boost::system::error_code ec;
  json::value body = json::parse(request.upstream.body, ec);
  if (ec || !body.is_object()) {  // the node words the error; nothing to keep
    p.family.reset();
    return p;
  }
  const json::object& o = body.get_object();
  p.want_stream = memory::wants_stream(*p.family, o);
  p.model = normalize_model_name(request.route.model);
  if (!p.policy.read && !p.policy.write) {
    p.why = "Cache-Control: no-store";
    return p;
  }
  p.why = memory::why_not_cacheable(cache.settings().mode, *p.family, o);
  if (!p.why.empty()) return p;
  if (!request.route.node_id.empty()) {  // the caller wants that node to answer
    p.why = "the request names a node (X-Hydra-Node)";
    return p;
  }
  const std::string digest = digests_of(gw, p.model);
  const std::string ns(request.caller ? request.caller->name() : std::string_view());
  const memory::KeyInput in{*p.family, p.model, digest, ns, &o};
  p.key = memory::key_of(in);
  if (cache.semantic()) p.question = memory::semantic_question(in);
  return p;
}

// Adds "hydra": {"cached": how} to the reply's final JSON object (a stream's done line, or
// the whole body), so a client reading the body alone can tell.
void mark_final(std::vector<std::string>& pieces, std::string_view how) {
  if (pieces.empty()) return;
  std::string& last = pieces.back();
  const bool newline = !last.empty() && last.back() == '\n';
  std::size_t start = last.find_last_of('\n', newline ? last.size() - 2 : std::string::npos);
  start = start == std::string::npos ? 0 : start + 1;
  boost::system::error_code ec;
  json::value v = json::parse(std::string_view(last).substr(start), ec);
  if (ec || !v.is_object()) return;
  v.get_object()["hydra"] = json::object{{"cached", how}};
  last = last.substr(0, start) + json::serialize(v) + (newline ? "\n" : "");
}

// Records a request the cache answered (a hit, or the share of another's reply) in the
// metrics and the request log, on the control thread.
void account_cached(Gateway& gw, const DispatchRequest& request, const Served& served,
                    std::chrono::steady_clock::time_point started, int status) {
  telemetry::RequestRecord rec;
  rec.at = std::chrono::system_clock::now();
  rec.key = std::string(request.caller ? request.caller->name() : std::string_view());
  rec.client = request.client;
  if (const http::Exchange* ex = request.exchange) {
    rec.method = std::string(ex->method_string());
    rec.request_id = ex->request_id().empty() ? ex->request()["X-Request-Id"] : ex->request_id();  // at most 128 bytes
  }
  rec.endpoint = request.endpoint;
  rec.model = served.model;
  rec.status = status;
  rec.outcome = "cached";
  rec.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  rec.tokens_out = served.eval_count;
  rec.tokens_in = served.prompt_eval_count;
  rec.cache = served.cache;
  if (telemetry::AccessEntry* entry = access_entry(request)) {
    entry->model = rec.model;
    entry->tokens_in = static_cast<int64_t>(rec.tokens_in);
    entry->tokens_out = static_cast<int64_t>(rec.tokens_out);
    entry->cache = rec.cache.value_or("");
    entry->queued_ms = 0;
    entry->outcome = "cached";
  }
  telemetry::Recorder to = gw.recorder();
  telemetry::RequestOutcome r;
  r.endpoint = rec.endpoint;
  r.model = rec.model;
  r.outcome = "cached";
  r.total_s = rec.duration_ms / 1000.0;
  to.metrics().request(r);
  to.traffic().record(std::chrono::steady_clock::now(), -1.0, rec.duration_ms, 0);
  to.finished(std::move(rec));
  recorded(gw);
}

// Sends a stored reply through `sink` in the shape the request wants. nullopt: the entry
// cannot be given that shape (the caller asks the fleet instead).
awaitable<std::optional<Dispatched>> replay(Gateway& gw, ReplySink& sink, const DispatchRequest& request,
                                            const Plan& plan, const memory::Entry& entry, std::string label,
                                            std::string_view how, std::chrono::steady_clock::time_point started) {
  std::vector<std::string> pieces;
  if (plan.want_stream) {
    pieces = memory::as_stream(entry);
  } else {
    auto whole = memory::as_whole(entry, *plan.family);
    if (!whole) co_return std::nullopt;
    pieces.push_back(std::move(*whole));
  }
  mark_final(pieces, how);
  Served served;
  served.node_id = entry.node;
  const auto snapshot = gw.cluster.snapshot();  // held: a range-for would not keep it alive
  for (const auto& n : snapshot->nodes)
    if (n.id == entry.node) served.node_url = n.url;
  served.model = plan.model;
  served.reason = fmt::format("answered by the response cache ({}); first served by {}", how, entry.node);
  served.cache = std::move(label);
  served.ttft_ms = 0;
  served.eval_count = entry.eval_count;
  served.prompt_eval_count = entry.prompt_eval_count;
  Dispatched out;
  std::optional<std::uint64_t> length;
  if (!plan.want_stream) length = pieces.front().size();
  const char* type = plan.want_stream ? "application/x-ndjson" : "application/json; charset=utf-8";
  bool left = co_await sink.begin(200, type, length, served);
  for (std::size_t i = 0; !left && i < pieces.size(); ++i) {
    if (i + 1 == pieces.size()) sink.settled();
    left = co_await sink.data(pieces[i]);
  }
  if (!left) co_await sink.end();
  out.served = std::move(served);
  account_cached(gw, request, *out.served, started, 200);
  co_return out;
}

// A follower: reads the leader's reply from the flight. A stream it wants as a stream goes
// out piece by piece as it arrives; any other shape waits for the end and is replayed.
// nullopt: the leader got no complete reply to share before this one began (it asks the
// fleet itself).
awaitable<std::optional<Dispatched>> follow(Gateway& gw, ReplySink& sink, const DispatchRequest& request,
                                            const Plan& plan, memory::Flight& flight,
                                            std::chrono::steady_clock::time_point started) {
  std::size_t from = 0;
  bool head_seen = false, live = false;
  Served served;
  for (;;) {
    auto raced = co_await (flight.next(from, head_seen) || sink.gone());
    if (raced.index() == 1) co_return Dispatched{};  // its client left
    memory::Flight::Read r = std::move(std::get<0>(raced));
    if (r.head && !head_seen) {
      head_seen = true;
      live = plan.want_stream && r.head->streamed && r.head->status == 200;
      if (live) {
        served.node_id = r.head->node_id;
        served.node_url = r.head->node_url;
        served.model = plan.model;
        served.reason = r.head->reason + "; shared with an identical request already on its way (single-flight)";
        served.cache = "coalesced";
        if (co_await sink.begin(r.head->status, r.head->content_type, std::nullopt, served)) co_return Dispatched{};
      }
    }
    from += r.pieces.size();
    if (live)
      for (const auto& p : r.pieces)
        if (co_await sink.data(p)) co_return Dispatched{};
    if (!r.ended) continue;
    if (live) {
      if (!r.complete) {
        co_await sink.broke(fmt::format("node {} broke off the reply this request shared", served.node_id));
        co_return Dispatched{};
      }
      co_await sink.end();
      Dispatched out;
      out.served = std::move(served);
      account_cached(gw, request, *out.served, started, 200);
      co_return out;
    }
    auto whole = flight.record();
    if (!whole) co_return std::nullopt;
    co_return co_await replay(gw, sink, request, plan, *whole, "coalesced", "coalesced", started);
  }
}

// Leaves the flight however the follower ends.
struct Leaving {
  memory::Flight& flight;
  ~Leaving() { flight.leave(); }
};

// What the cache keeps of a reply the tee recorded whole.
memory::Entry entry_of(CacheTee& tee, const Plan& plan) {
  memory::Entry e;
  e.model = plan.model;
  e.node = tee.node();
  e.streamed = tee.streamed();
  e.pieces = tee.take_pieces();
  memory::read_counts(e);
  return e;
}

// To the fleet through a CacheTee. The moment the reply is whole (before its last bytes reach
// the client, so the client's next identical request finds it) it is stored when the request
// allows it, and the flight lands: later requests hit the cache instead of joining.
awaitable<Dispatched> ask_fleet(Gateway& gw, memory::Cache& cache, ReplySink& sink, DispatchRequest& request,
                                const Plan& plan, std::shared_ptr<memory::Flight> flight) {
  const std::size_t limit = plan.policy.write ? cache.settings().l1_bytes / 4 : 0;
  CacheTee tee(sink, flight, limit);
  tee.on_complete([&] {
    if (plan.policy.write && tee.complete()) {
      cache.store(plan.key, entry_of(tee, plan), plan.policy.ttl_s, unix_ms());
      if (plan.question && !plan.vector.empty()) cache.remember(plan.question->scope, plan.key, plan.model, plan.vector);
    }
    if (flight) {
      cache.flights().land(plan.key, flight);
      flight->finish(true);
    }
  });
  // However the leader ends (an exception, its coroutine cancelled or destroyed), a reply
  // that did not complete lands its flight as failed: followers go on their own, and the key
  // is free for the next request.
  struct Landing {
    memory::Cache& cache;
    const std::string& key;
    const std::shared_ptr<memory::Flight>& flight;
    const CacheTee& tee;
    ~Landing() {
      if (!flight || tee.completed()) return;
      cache.flights().land(key, flight);
      flight->finish(false);
    }
  } landing{cache, plan.key, flight, tee};
  request.cache = "miss";  // the relay labels the reply so (Served::cache too)
  co_return co_await dispatch_to_fleet(gw, tee, request);
}

struct SemanticHit {
  std::shared_ptr<const memory::Entry> entry;
  double similarity = 0;
};

// Embeds the question (kept in the plan, so that the answer is remembered under it) and looks
// for an answered one close enough in the same scope.
awaitable<std::optional<SemanticHit>> semantic_hit(Gateway& gw, memory::Cache& cache, Plan& plan) {
  const auto& settings = cache.settings().semantic;
  Embedding e = co_await embed_question(gw, settings.model, plan.question->text);
  if (!e.vector) {
    if (cache.first_semantic_failure())
      spdlog::warn("cache: the semantic tier's model {} gave no embedding ({}); reworded questions are not "
                   "matched until it does (cache.semantic.model must be an embedding model the fleet has)",
                   settings.model, e.error);
    co_return std::nullopt;
  }
  plan.vector = std::move(*e.vector);
  auto match = cache.semantic()->nearest(plan.question->scope, plan.vector, settings.threshold);
  std::shared_ptr<const memory::Entry> entry;
  if (match) {
    if (auto found = co_await cache.lookup(match->key, unix_ms(), false)) entry = found->entry;
  }
  cache.count_semantic(entry != nullptr);
  if (!entry) co_return std::nullopt;
  co_return SemanticHit{std::move(entry), match->similarity};
}

awaitable<Dispatched> refuse(ReplySink& sink, std::string message) {
  co_await sink.fail(400, message, 0);
  co_return Dispatched{};
}

// A request the cache may answer: a hit, a flight to join, or the leader's way to the fleet.
awaitable<Dispatched> through_cache(Gateway& gw, memory::Cache& cache, ReplySink& sink, DispatchRequest& request,
                                    Plan plan, std::chrono::steady_clock::time_point started) {
  if (auto hit = co_await cache.lookup(plan.key, unix_ms())) {
    const char* tier = memory::to_string(hit->tier);
    auto out = co_await replay(gw, sink, request, plan, *hit->entry, fmt::format("hit; tier={}", tier), tier, started);
    if (out) co_return std::move(*out);
  }
  if (plan.question) {  // the semantic tier: the same question worded otherwise
    if (auto hit = co_await semantic_hit(gw, cache, plan)) {
      auto out = co_await replay(gw, sink, request, plan, *hit->entry,
                                 fmt::format("hit; tier=semantic; similarity={:.2f}", hit->similarity), "semantic", started);
      if (out) co_return std::move(*out);
    }
  }
  bool leader = false;
  auto flight = cache.flights().lead_or_join(plan.key, leader);
  if (leader) co_return co_await ask_fleet(gw, cache, sink, request, plan, std::move(flight));
  {
    Leaving leaving{*flight};
    auto followed = co_await follow(gw, sink, request, plan, *flight, started);
    if (followed) {
      if (followed->served) cache.count_coalesced();
      co_return std::move(*followed);
    }
  }
  // The first request got no complete reply to share: this one asks the fleet itself.
  co_return co_await ask_fleet(gw, cache, sink, request, plan, nullptr);
}

// ask_fleet() without the cache's read, owning its plan.
awaitable<Dispatched> ask_fleet_only(Gateway& gw, memory::Cache& cache, ReplySink& sink, DispatchRequest& request,
                                     Plan plan) {
  co_return co_await ask_fleet(gw, cache, sink, request, plan, nullptr);
}

}  // namespace

// Not a coroutine: it plans at once and hands over to the path the plan takes, so that the
// common ones (no cache, a bypass) carry no frame of this function's through the whole reply.
awaitable<Dispatched> dispatch(Gateway& gw, ReplySink& sink, DispatchRequest& request) {
  memory::Cache* cache = gw.cache;
  if (!cache) return dispatch_to_fleet(gw, sink, request);
  const auto started = std::chrono::steady_clock::now();
  if (request.exchange && request.client.empty()) request.client = request.exchange->remote_text();
  Plan plan = plan_for(gw, *cache, request);
  if (!plan.policy.error.empty()) return refuse(sink, std::move(plan.policy.error));
  if (!plan.family) return dispatch_to_fleet(gw, sink, request);
  if (plan.key.empty()) {
    cache->count_bypass();
    request.cache = "bypass";  // the relay labels the reply so (X-Hydra-Cache, Served::cache): no tee per chunk
    return dispatch_to_fleet(gw, sink, request);
  }
  if (!plan.policy.read) return ask_fleet_only(gw, *cache, sink, request, std::move(plan));
  return through_cache(gw, *cache, sink, request, std::move(plan), started);
}

}  // namespace hydra::api
