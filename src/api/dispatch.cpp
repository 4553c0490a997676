#include "api/dispatch.hpp"

#include "api/shards.hpp"

#include "api/prefix_request.hpp"
#include "api/threading.hpp"

#include "common/model_name.hpp"
#include "routing/policy.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

namespace hydra::api {

namespace {

// A request's routing decision, for the routing log: made once, on the heap where the log keeps
// it, and handed along by pointer (the control thread's accounting gets the same object).
using Event = std::shared_ptr<telemetry::RoutingEvent>;

Event event_of(const DispatchRequest& request, const routing::Decision& decision, const cluster::Snapshot& snapshot) {
  auto made = std::make_shared<telemetry::RoutingEvent>();
  telemetry::RoutingEvent& e = *made;
  e.at = std::chrono::system_clock::now();
  e.endpoint = request.endpoint;
  if (request.exchange) e.request_id = request.exchange->request_id();
  else if (!request.request_id.empty()) e.request_id = request.request_id;
  e.model = request.route.model;
  e.requested_node = request.route.node_id;
  e.priority = request.route.priority;
  // A routed request's reason is the one it ends with (dispatch_to_fleet sets it then).
  if (!decision.ok()) e.reason = decision.error;
  e.candidates.reserve(decision.candidates.size());
  for (const auto& c : decision.candidates) {
    if (c.index >= snapshot.nodes.size()) continue;
    telemetry::RoutedCandidate rc;
    rc.node_id = snapshot.nodes[c.index].id;
    rc.score = c.score;
    rc.placement = routing::to_string(c.placement);
    rc.free_slot = c.has_free_slot;
    e.candidates.push_back(std::move(rc));
  }
  return made;
}

// Moves the node admission chose to the front, and says so in the reason.
// A wait names the best node and how busy it was (its configured or learned parallelism).
void note_choice(routing::Decision& decision, std::size_t chosen, const cluster::Snapshot& snapshot, bool waited,
                 const std::string& why) {
  if (!waited && chosen == decision.ranked.front()) return;
  const auto& best = snapshot.nodes[decision.ranked.front()];
  auto it = std::find(decision.ranked.begin(), decision.ranked.end(), chosen);
  std::rotate(decision.ranked.begin(), it, it + 1);
  std::string how = "had the first free slot";
  if (!why.empty()) how = "took it: " + why;
  else if (waited)
    how = fmt::format("took it after a wait in the queue (every candidate was busy; {} {})", best.id,
                      routing::slots_busy(best, decision.model));
  decision.reason = fmt::format("{}; {} {}", decision.reason, snapshot.nodes[chosen].id, how);
}

// What the accounting needs of a dispatched request: small, so that handing it to the control
// thread copies little.
struct Result {
  bool routed = false;
  int error_status = 0;
  bool queued = false;
  std::optional<std::string> node;  // set when served
  double ttft_ms = -1;
  uint64_t tokens = 0, tokens_in = 0;
  int attempts = 0;
  PrefixServed prefix;  // what prefix affinity learns from it (api/prefix_request.hpp)
};

Result result_of(const Dispatched& out) {
  Result r;
  r.routed = out.decision.ok();
  r.error_status = out.decision.error_status;
  r.queued = out.queued;
  if (out.served) {
    r.node = out.served->node_id;
    r.ttft_ms = out.served->ttft_ms;
    r.tokens = out.served->eval_count;
    r.tokens_in = out.served->prompt_eval_count;
    r.attempts = out.served->attempt;
  }
  return r;
}

// What prefix affinity learns from a served request: the tokens of its prompt the serving node
// held, and, when a failover moved it, that the node that finished it holds the prompt now.
Result with_prefix(Result r, const DispatchRequest& request, std::size_t sent_to, const Dispatched& out,
                   const cluster::Snapshot& snapshot, const std::string& model) {
  if (!out.served || (!request.prefix.generates && request.route.session.empty())) return r;
  r.prefix.session = request.route.session;
  r.prefix.keyed = request.prefix.key != nullptr;
  for (const auto& c : out.decision.candidates)
    if (c.index < snapshot.nodes.size() && snapshot.nodes[c.index].id == out.served->node_id)
      r.prefix.matched_tokens = c.prefix_tokens;
  if (sent_to < snapshot.nodes.size() && snapshot.nodes[sent_to].id != out.served->node_id) {
    r.prefix.moved = request.prefix;
    for (const auto& n : snapshot.nodes)
      if (n.id == out.served->node_id) r.prefix.moved_slots = cluster::slots_for(n, model).slots;
  }
  return r;
}

// The model as metrics label it: a model some node of the fleet has, or "other", so that
// clients asking for made-up names cannot grow the metrics without bound.
std::string model_label(const Gateway& gw, const std::string& model, const Result& out) {
  if (out.routed || model.empty()) return model;
  auto snapshot = gw.cluster.snapshot();
  if (!snapshot->holders_of(model).empty()) return model;
  for (const auto& n : snapshot->nodes)  // on a node that is down now: still the fleet's
    if (!n.removed && n.model(model)) return model;
  return "other";
}

// Records the decision for the routing log, with the outcome metrics count it under. Returns
// it, for the request log's record to point at.
std::shared_ptr<const telemetry::RoutingEvent> log_event(telemetry::Recorder& to, Event event, std::string_view outcome) {
  event->outcome = outcome;
  return to.routed(std::move(event));
}

long long ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
}

// Why a request whose client left is abandoned, for the routing log.
std::string abandoned_reason(const RelayReport& report, std::chrono::steady_clock::time_point started) {
  if (report.node_id.empty())
    return fmt::format("abandoned: the client left after {} ms, while the request waited for a slot on another node",
                       ms_since(started));
  return fmt::format("abandoned: the client left after {} ms and {} chunks ({} bytes) of {}'s reply", ms_since(started),
                     report.chunks, report.bytes, report.node_id);
}


// The request log's record of a request, begun from its exchange on the thread that serves it
// (the accounting runs after the exchange may be gone): who asked,
// for what, and the reply's status once sent. account() completes it.
telemetry::RequestRecord record_of(const DispatchRequest& request) {
  telemetry::RequestRecord rec;
  rec.endpoint = request.endpoint;
  if (!request.route.model.empty()) rec.model = request.model;  // as asked, normalised (empty: none asked)
  rec.client = request.client;
  if (!request.cache.empty()) rec.cache = request.cache;
  if (request.caller) rec.key = std::string(request.caller->name());
  if (const http::Exchange* ex = request.exchange) {
    rec.method = std::string(ex->method_string());
    rec.request_id = ex->request_id().empty() ? ex->request()["X-Request-Id"] : ex->request_id();  // at most 128 bytes
    rec.status = ex->status();
  } else {
    rec.method = "POST";
    if (!request.request_id.empty()) rec.request_id = request.request_id;
  }
  return rec;
}

// The status the client got: the reply's, once sent (`sent`); else what the outcome will
// answer (the failure paths account before they reply). 499 (nginx's "client closed
// request"): it left.
int status_of(int sent, const Result& out, std::string_view outcome) {
  if (sent) return sent;
  if (outcome == "unroutable") return out.error_status;
  if (outcome == "rejected") return 503;
  if (outcome == "abandoned") return 499;
  if (outcome == "served") return 200;
  return 502;
}

// What prefix affinity learns from a served request (routing state: the control thread's),
// handed over only when there is something to learn.
void learn_prefix(Gateway& gw, const std::string& node, const std::string& model, PrefixServed&& served) {
  if (!served.keyed && !served.moved.generates && served.session.empty()) return;
  post_control(gw, [&gw, node, model, served = std::move(served)] { prefix_served(gw, node, model, served); });
}

// Records the decision in the routing log (with `outcome`, a literal) and counts the request
// in the metrics, the dashboard's traffic window and the request log, where `rec` goes: on the
// thread that served it (Gateway::recorder). `node`: the node that was serving a request whose
// client left (a served request's node is its own).
void account(Gateway& gw, telemetry::RequestRecord&& rec, Result& out, Event event, std::string_view outcome,
             std::chrono::steady_clock::time_point started, double queue_wait_s, std::string node = {}) {
  telemetry::Recorder to = gw.recorder();
  const bool asked = !rec.model.empty();  // normalised already (record_of)
  std::string model = asked ? std::move(rec.model) : normalize_model_name({});
  if (out.node) learn_prefix(gw, *out.node, model, std::move(out.prefix));
  const int attempts = out.attempts ? out.attempts : event->attempts;  // as the access log has it
  auto routed = log_event(to, std::move(event), outcome);
  const auto now = std::chrono::steady_clock::now();
  rec.node = out.node ? std::move(*out.node) : std::move(node);
  std::string label = model_label(gw, model, out);
  telemetry::RequestOutcome r;
  r.endpoint = rec.endpoint;
  r.model = label;
  r.node = rec.node;
  r.outcome = outcome;
  r.total_s = std::chrono::duration<double>(now - started).count();
  r.queued = out.queued;
  r.queue_wait_s = queue_wait_s;
  // Served, or abandoned after the node began (what its client got): timings and tokens.
  if (out.ttft_ms >= 0) r.ttft_s = out.ttft_ms / 1000.0;
  r.tokens = out.tokens;
  if (out.node) r.attempts = out.attempts;  // failovers count those of served requests
  to.metrics().request(r);
  const bool error = outcome != "served" && outcome != "abandoned";
  const bool served = out.node.has_value();
  to.traffic().record(now, served ? out.ttft_ms : -1.0, r.total_s * 1000.0, r.tokens, rec.node, error);

  // The request log's line, built from what the metrics count, so the outcome and node are the
  // same in both.
  rec.at = std::chrono::system_clock::now();
  rec.status = status_of(rec.status, out, outcome);
  rec.outcome = outcome;
  rec.attempts = attempts;
  rec.queued = r.queued;
  rec.queue_ms = r.queue_wait_s * 1000.0;
  rec.ttft_ms = r.ttft_s < 0 ? -1.0 : r.ttft_s * 1000.0;
  rec.duration_ms = r.total_s * 1000.0;
  rec.tokens_out = r.tokens;
  rec.tokens_in = out.tokens_in;
  // Last: r's views of the label end here.
  rec.model = asked ? std::move(model) : std::move(label);  // as asked (normalised), "other" or not
  rec.routing = std::move(routed);
  to.finished(std::move(rec));
  recorded(gw);
}

// The same, with the request's access-log line (written by the guard on this thread), which
// learns it here. `outcome`: a literal.
void account_later(Gateway& gw, const DispatchRequest& request, Result out, Event event,
                   std::string_view outcome, std::chrono::steady_clock::time_point started, double queue_wait_s,
                   std::string node = {}) {
  if (telemetry::AccessEntry* entry = access_entry(request)) {
    entry->node = out.node ? *out.node : node;
    entry->outcome = outcome;
    entry->attempts = out.attempts ? out.attempts : event->attempts;
    entry->queued_ms = out.queued ? queue_wait_s * 1000.0 : 0.0;
    entry->ttfb_ms = out.ttft_ms;
    if (out.node) entry->tokens_in = static_cast<int64_t>(out.tokens_in);
    if (out.node || out.tokens) entry->tokens_out = static_cast<int64_t>(out.tokens);
    entry->cache = request.cache;
  }
  account(gw, record_of(request), out, std::move(event), outcome, started, queue_wait_s, std::move(node));
}

// A key's model list and priority cap; empty when the request may go on, else the 403 message.
std::string apply_key(Gateway& gw, DispatchRequest& request, std::string& priority_note) {
  if (!request.caller || !request.caller->key) return {};
  const auth::Key& key = *request.caller->key;
  if (!auth::model_allowed(key, request.model)) {
    take_back(gw, *request.caller, auth::Refusal::model);
    return fmt::format("key \"{}\" may not use model \"{}\"", key.name, request.route.model);
  }
  if (key.max_priority > 0 && request.route.priority > key.max_priority) {
    priority_note = fmt::format("priority lowered from {} to {} (key \"{}\" max_priority)", request.route.priority,
                                key.max_priority, key.name);
    request.route.priority = key.max_priority;
  }
  return {};
}

// Routed on the fleet as it is now (control thread).
routing::Decision route_now(Gateway& gw, const routing::RouteRequest& request,
                            std::shared_ptr<const cluster::Snapshot>& snapshot) {
  snapshot = gw.cluster.snapshot();
  return routing::route_with_policy(*snapshot, request, gw.random, gw.weights, gw.policy, gw.turn++);
}

// No node has the model: it may have been pulled since the last look. Every node's list is
// read again, then it is routed once more.
http::awaitable<routing::Decision> route_after_refresh(Gateway& gw, const routing::RouteRequest& request,
                                                       std::shared_ptr<const cluster::Snapshot>& snapshot) {
  co_await gw.cluster.refresh_all_models();
  co_return route_now(gw, request, snapshot);
}

}  // namespace

http::awaitable<routing::Decision> route_model(Gateway& gw, const routing::RouteRequest& request,
                                               std::shared_ptr<const cluster::Snapshot>& snapshot) {
  routing::Decision decision = route_now(gw, request, snapshot);
  if (decision.error_status != 404) co_return decision;
  co_return co_await route_after_refresh(gw, request, snapshot);
}

namespace {

// What was decided: the route and admission's first answer (a slot, a refusal, or a place in
// the queue); on the control thread in one visit (decide()), or on a worker (decide_here()).
struct Routed {
  std::shared_ptr<const cluster::Snapshot> snapshot;
  Event event;
  Admission::Ticket ticket;
  bool loading = false;  // admitted at once on a node that must load the model: marked loading
  std::optional<std::size_t> sent_to;  // admitted at once there: the prefix index knows
};

// Prefix affinity's state for route(): the index (a prompt with a key) and the session's pin.
// True when the request reads any of it; a worker holds gw.prefix_lock shared meanwhile.
bool reads_prefix_state(const Gateway& gw, const routing::RouteRequest& route) {
  return route.prefix || (!route.session.empty() && gw.weights.prefix > 0);  // sessions pin through the prefix part
}

void read_prefix_state(Gateway& gw, routing::RouteRequest& route) {
  if (route.prefix) route.prefix_index = &gw.prefix_index;
  if (!route.session.empty() && gw.weights.prefix > 0) route.session_node = gw.sessions.node_of(route.session, route.now);
}

// The control thread's visit. `priority_note`: what apply_key() said (the request's thread).
// decide()'s notes on a decision and its event for the routing log.
void note_decision(DispatchRequest& request, Dispatched& out, const std::string& priority_note, Routed& r) {
  if (!priority_note.empty() && out.decision.ok()) out.decision.reason += "; " + priority_note;
  if (!request.shard_note.empty() && out.decision.ok()) out.decision.reason += "; " + request.shard_note;
  r.event = event_of(request, out.decision, *r.snapshot);
}

// decide()'s admission of a request it found a route for.
void admit_decided(Gateway& gw, DispatchRequest& request, Dispatched& out, const std::string& model,
                   Admission::Waiting where, Routed& r) {
  r.ticket = gw.admission.enter(*r.snapshot, out.decision, model, request.route.priority, std::move(where));
  if (const Lease* lease = r.ticket.out.lease.get()) {
    prefix_sent(gw, r.snapshot->nodes[lease->node()], model, request.prefix, request.route.session);
    r.sent_to = lease->node();
  }
  if (const Lease* lease = r.ticket.out.lease.get(); lease && !r.snapshot->nodes[lease->node()].resident_model(model)) {
    // Now, before the next request is routed here: it joins this load instead of starting one.
    gw.cluster.loading_started(lease->node(), model);
    r.loading = true;
  }
}

// The control thread's visit. `priority_note`: what apply_key() said (the request's thread).
http::awaitable<Routed> decide(Gateway& gw, DispatchRequest& request, Dispatched& out,
                               std::chrono::steady_clock::time_point started, const std::string& model,
                               Admission::Waiting where, const std::string& priority_note) {
  Routed r;
  // Prefix affinity's state is read here without the lock: only this thread changes it.
  request.route.now = std::chrono::steady_clock::now();
  read_prefix_state(gw, request.route);
  if (request.shard_error.empty()) {
    // At once, without a coroutine of its own; a model no node has waits for a refresh.
    out.decision = route_now(gw, request.route, r.snapshot);
    if (out.decision.error_status == 404) out.decision = co_await route_after_refresh(gw, request.route, r.snapshot);
  } else {  // a sharded model that cannot be served now
    r.snapshot = gw.cluster.snapshot();
    out.decision.error_status = 503;
    out.decision.error = request.shard_error;
    out.decision.reason = request.shard_error;
  }
  note_decision(request, out, priority_note, r);
  if (!out.decision.ok()) {
    r.event->error = out.decision.error;
    // Requests that ended before this one came are logged before it, as on one thread (their
    // accounting may still sit in a worker's queue; rare path).
    co_await settle_workers(gw);
    Result result = result_of(out);
    account(gw, record_of(request), result, std::move(r.event), "unroutable", started, 0);
    co_return r;
  }
  admit_decided(gw, request, out, model, std::move(where), r);
  co_return r;
}

// decide() without a coroutine, for a request already on the control thread (one thread
// serves all) that finds a route at once. False, with no slot taken and nothing recorded:
// decide() for the rest (a sharded model, a refresh, an unroutable request's accounting),
// which routes again (round robin's turn moves twice for such a request).
bool decide_at_once(Gateway& gw, DispatchRequest& request, Dispatched& out, const std::string& model,
                    Admission::Waiting& where, const std::string& priority_note, Routed& r) {
  if (!http::on_control_thread() || !request.shard_error.empty()) return false;
  request.route.now = std::chrono::steady_clock::now();
  read_prefix_state(gw, request.route);
  routing::Decision decision = route_now(gw, request.route, r.snapshot);
  if (!decision.ok()) return false;
  out.decision = std::move(decision);
  note_decision(request, out, priority_note, r);
  admit_decided(gw, request, out, model, std::move(where), r);
  return true;
}

// The common case of a worker's request, without a visit to the control thread: routed on the
// snapshot here (routing is pure; prefix affinity's index and session pins read under a shared
// lock) and admitted at once on a slot taken atomically (Admission::try_enter). False, with
// nothing taken: decide() on the control thread, for whatever needs its state (a sharded
// model, no route, a queue, a cold load).
bool decide_here(Gateway& gw, DispatchRequest& request, Dispatched& out, const std::string& model,
                 const std::string& priority_note, Routed& r) {
  if (http::on_control_thread() || !request.shard_error.empty() || !request.shard_note.empty()) return false;
  if (!gw.admission.open_and_idle()) return false;  // a queue: the control thread routes it, once
  thread_local routing::SystemRandom random;  // routing's tie-breaks: this thread's own
  request.route.now = std::chrono::steady_clock::now();
  auto snapshot = gw.cluster.snapshot();
  std::shared_lock reading(gw.prefix_lock, std::defer_lock);
  if (reads_prefix_state(gw, request.route)) {
    reading.lock();
    read_prefix_state(gw, request.route);
  }
  routing::Decision decision = routing::route_with_policy(*snapshot, request.route, random, gw.weights, gw.policy,
                                                          gw.turn.fetch_add(1, std::memory_order_relaxed));
  if (reading) reading.unlock();  // the index pointer stays: a failover routes again on the control thread
  if (!decision.ok()) return false;
  r.ticket.out.lease = gw.admission.try_enter(*snapshot, decision, model);
  if (!r.ticket.out.lease) return false;
  out.decision = std::move(decision);
  if (!priority_note.empty()) out.decision.reason += "; " + priority_note;
  r.event = event_of(request, out.decision, *snapshot);
  r.snapshot = std::move(snapshot);
  return true;  // sent_to unset: dispatch_to_fleet() tells prefix affinity, by a post
}

}  // namespace

telemetry::AccessEntry* access_entry(const DispatchRequest& request) {
  return request.exchange ? static_cast<telemetry::AccessEntry*>(request.exchange->log_context()) : nullptr;
}

http::awaitable<Dispatched> dispatch_to_fleet(Gateway& gw, ReplySink& sink, DispatchRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  const Deadline deadline = deadline_from_now(gw);
  if (request.exchange && request.client.empty())  // now: a client that leaves has no address
    request.client = request.exchange->remote_text();
  Dispatched out;
  if (request.model.empty()) request.model = normalize_model_name(request.route.model);
  const std::string& model = request.model;
  if (telemetry::AccessEntry* entry = access_entry(request)) entry->model = model;
  if (request.exchange && !request.upstream.traced)
    add_trace_headers(*request.exchange, request.upstream);  // a translated request: built anew
  if (keys_prefixes(gw)) {  // off the control thread: it parses
    if (!request.prefix_read) request.prefix = prefix_of(request.upstream);
    request.route.prefix = request.prefix.key;
  }
  if (gw.shards && gw.shards->manages(model)) {
    // A sharded model: its coordinator is started first when no node has the model (what was
    // done, or why it cannot be, goes into the routing decision: decide()).
    Shards::Ensured ensured = co_await http::on_control_co(gw.control, [&] { return gw.shards->ensure(model, false); });
    request.shard_note = std::move(ensured.note);
    request.shard_error = std::move(ensured.error);
  }
  std::string priority_note;
  std::string refused = apply_key(gw, request, priority_note);
  if (!refused.empty()) {
    co_await sink.fail(403, std::move(refused), 0);
    co_return out;
  }
  Routed routed;
  if (!decide_here(gw, request, out, model, priority_note, routed)) {
    Admission::Waiting here;  // where this request waits if it is queued: this thread
    here.executor = co_await http::asio::this_coro::executor;
    here.thread = http::thread_index();
    if (!decide_at_once(gw, request, out, model, here, priority_note, routed)) {
      auto deciding = [&] { return decide(gw, request, out, started, model, here, priority_note); };
      routed = co_await http::on_control_co(gw.control, deciding);
    }
  }
  if (!out.decision.ok()) {  // accounted by decide()
    if (telemetry::AccessEntry* entry = access_entry(request)) entry->outcome = "unroutable";
    co_await sink.fail(out.decision.error_status, out.decision.error, 0);
    co_return out;
  }
  std::shared_ptr<const cluster::Snapshot> snapshot = std::move(routed.snapshot);
  telemetry::RoutingEvent& event = *routed.event;  // routed.event goes to the accounting at the end
  const auto admitting = std::chrono::steady_clock::now();
  AdmitOutcome admitted = std::move(routed.ticket.out);  // a slot taken at once: no wait, no frame
  if (routed.ticket.pending)
    admitted = co_await gw.admission.wait(std::move(routed.ticket), sink, *snapshot, out.decision);
  if (gw.shared) {  // several gateways: Redis confirms the slot, or the request goes elsewhere
    const std::optional<std::size_t> first = admitted.lease ? std::optional(admitted.lease->node()) : std::nullopt;
    admitted = co_await gw.admission.confirmed(std::move(admitted), sink, *snapshot, out.decision, model,
                                               request.route.priority);
    if (routed.loading && first && (!admitted.lease || admitted.lease->node() != *first)) {
      gw.cluster.loading_ended(*first, model);  // it will not load there after all
      routed.loading = false;
    }
  }
  const double queue_wait_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - admitting).count();
  if (admitted.client_gone) {  // it left while waiting in the queue: no node had it yet
    out.queued = event.queued = admitted.waited;
    event.reason = fmt::format("{}; abandoned: the client left after {} ms waiting in the queue", out.decision.reason,
                               ms_since(started));
    account_later(gw, request, result_of(out), std::move(routed.event), "abandoned", started, queue_wait_s);
    co_return out;
  }
  if (!admitted.lease) {
    event.reason = out.decision.reason;
    event.error = admitted.error;
    out.queued = admitted.waited;
    account_later(gw, request, result_of(out), std::move(routed.event), "rejected", started, queue_wait_s);
    co_await sink.fail(503, admitted.error, admitted.retry_after_s);
    co_return out;
  }
  const std::size_t chosen = admitted.lease->node();
  if (routed.sent_to != chosen && (request.prefix.generates || !request.route.session.empty()))
    post_control(gw, [&gw, snapshot, chosen, model, facts = request.prefix, session = request.route.session] {
      prefix_sent(gw, snapshot->nodes[chosen], model, facts, session);  // queued, or moved by Redis: known only now
    });
  out.queued = admitted.waited;
  if (admitted.waited) snapshot = gw.cluster.snapshot();  // it may have moved on while waiting
  note_choice(out.decision, chosen, *snapshot, admitted.waited, admitted.why);

  const bool cold = routed.loading || !snapshot->nodes[chosen].resident_model(model);
  RelayOptions options;
  options.upstream = std::move(request.upstream);
  options.refresh_after = cold || request.changes_residency;
  options.lease = std::move(admitted.lease);
  options.model = model;
  options.priority = request.route.priority;
  options.route = &request.route;
  RelayReport report;
  options.report = &report;
  options.served = &out.served;
  options.deadline = deadline;
  options.cache_label = request.cache;
  if (cold && !routed.loading) gw.cluster.loading_started(chosen, model);
  co_await relay(gw, sink, snapshot, out.decision, std::move(options));
  if (cold) gw.cluster.loading_ended(chosen, model);

  event.queued = out.queued;
  event.reason = out.served ? out.served->reason : out.decision.reason;
  std::string_view outcome = out.served ? "served" : report.abandoned ? "abandoned" : "failed";
  if (out.served) {
    event.node_id = out.served->node_id;
    event.attempts = out.served->attempt;
    for (const auto& s : out.served->continued) event.continued.push_back({s.from, s.to, s.after_tokens});
  } else if (report.abandoned) {  // its client left: the node that was serving it is named
    event.node_id = report.node_id;
    event.reason += "; " + abandoned_reason(report, started);
    event.attempts = report.attempts;
    for (const auto& s : report.continued) event.continued.push_back({s.from, s.to, s.after_tokens});
  } else if (!report.error.empty()) {  // a stream that broke off for good
    event.error = report.error;
    event.attempts = report.attempts;
    for (const auto& s : report.continued) event.continued.push_back({s.from, s.to, s.after_tokens});
  } else {
    event.error = "no node served the request";
  }
  if (out.served && request.caller && request.caller->key)
    gw.limiter.add_tokens(*request.caller->key, out.served->eval_count, std::chrono::steady_clock::now());
  Result result = with_prefix(result_of(out), request, chosen, out, *snapshot, model);
  if (report.abandoned) {  // what the client got before it left (attempts: the event has them)
    result.ttft_ms = report.ttft_ms;
    result.tokens = report.tokens;
  }
  account_later(gw, request, std::move(result), std::move(routed.event), outcome, started, queue_wait_s,
                report.node_id);
  co_return out;
}

}  // namespace hydra::api
