#include "api/relay.hpp"

#include "api/request_id.hpp"
#include "common/app_log.hpp"
#include "api/shards.hpp"

#include "api/attempt_watch.hpp"
#include "api/continuation.hpp"
#include "routing/policy.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <boost/container/small_vector.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace bhttp = http::bhttp;
using http::awaitable;

namespace {

// The nodes a request was sent to, in order: max_attempts (3 by default) fit without allocating.
using Tried = boost::container::small_vector<std::size_t, 4>;

// Above any request's priority (1-10, plus aging while it waits).
constexpr int kContinuationPriority = 1000;

// Hop-by-hop and framing headers are the proxy's own business, never forwarded.
bool hop_by_hop(bhttp::field f, std::string_view name) {
  switch (f) {
    case bhttp::field::connection: case bhttp::field::keep_alive: case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization: case bhttp::field::te: case bhttp::field::trailer:
    case bhttp::field::transfer_encoding: case bhttp::field::upgrade: case bhttp::field::host:
    case bhttp::field::content_length: case bhttp::field::expect: return true;
    default: return name.starts_with("X-Hydra-") || name.starts_with("x-hydra-");
  }
}

// The decision without the nodes tried already, free slots as they are now.
routing::Decision remaining(const routing::Decision& decision, const Tried& tried,
                            const cluster::Snapshot& snapshot) {
  routing::Decision rest = decision;
  auto was_tried = [&](std::size_t i) { return std::find(tried.begin(), tried.end(), i) != tried.end(); };
  std::erase_if(rest.ranked, was_tried);
  std::erase_if(rest.candidates, [&](const routing::Candidate& c) {
    return was_tried(c.index) || c.index >= snapshot.nodes.size();
  });
  std::erase_if(rest.ranked, [&](std::size_t i) { return i >= snapshot.nodes.size(); });
  for (auto& c : rest.candidates) {
    const auto& n = snapshot.nodes[c.index];
    c.has_free_slot = cluster::busy(n) < cluster::slots_for(n, rest.model).slots;
  }
  return rest;
}

// The lease for the next attempt, or why there is none (`why` empty: no candidate is left).
struct NextLease {
  std::unique_ptr<Lease> lease;
  bool client_gone = false;
  std::string why;
};

awaitable<NextLease> next_lease(Gateway& gw, ReplySink& sink, std::shared_ptr<const cluster::Snapshot>& snapshot,
                                const routing::Decision& decision, const Tried& tried,
                                const RelayOptions& options, int priority) {
  NextLease next;
  if (gw.shards && !tried.empty() && snapshot->nodes[tried.back()].coordinator == options.model &&
      gw.shards->manages(options.model)) {
    // A sharded model's coordinator failed: it is started again (or refused) before routing.
    // (When it cannot be, routing finds no node and the request ends with that.)
    const std::string model = options.model;
    Shards::Ensured ensured = co_await http::on_control_co(gw.control, [&] { return gw.shards->ensure(model, true); });
    if (!ensured.error.empty()) {
      LogRequestScope scope(options.upstream.headers["X-Request-Id"]);
      spdlog::warn("failover of a {} request: {}", model, ensured.error);
    }
  }
  snapshot = gw.cluster.snapshot();  // the fleet may have moved on during the last attempt
  // Routed again on the fleet as it is now: a node readmitted since the first choice counts.
  std::optional<routing::Decision> fresh;
  if (options.route) {
    const cluster::Snapshot& now = *snapshot;
    auto route = [&] {  // routing's randomness and turn are the control thread's
      return routing::route_with_policy(now, *options.route, gw.random, gw.weights, gw.policy, gw.turn++);
    };
    fresh = co_await on_control(gw, route);
    if (!fresh->ok()) fresh.reset();
  }
  routing::Decision rest = remaining(fresh ? *fresh : decision, tried, *snapshot);
  if (rest.ranked.empty() || (!options.model.empty() && rest.candidates.empty())) co_return next;
  if (options.model.empty()) {
    next.lease = gw.admission.lease_now(rest.ranked.front());
    co_return next;
  }
  AdmitOutcome admitted = co_await gw.admission.admit(sink, *snapshot, rest, options.model, priority);
  next.client_gone = admitted.client_gone;
  next.lease = std::move(admitted.lease);
  if (!next.lease && !next.client_gone) next.why = "the other candidates stayed busy: " + admitted.error;
  if (admitted.waited) snapshot = gw.cluster.snapshot();
  co_return next;
}

// Counts a continuation's outcome in the metrics (this thread's: Gateway::recorder).
void count_continuation(Gateway& gw, const char* outcome) { gw.recorder().metrics().continuation(outcome); }

// "continued: A -> B after 14 tokens, B -> C after 20 tokens"
std::string describe(const std::vector<Switch>& steps) {
  std::string out = "continued:";
  for (const auto& s : steps)
    out += fmt::format("{} {} -> {} after {} tokens", out.back() == ':' ? "" : ",", s.from, s.to, s.after_tokens);
  return out;
}

// What became of a request that no node finished, for the routing log.
void report(const RelayOptions& options, const Tried& tried, const ContinuingSink* stream,
            const std::string& error) {
  if (!options.report) return;
  options.report->attempts = static_cast<int>(tried.size());
  if (stream) options.report->continued = stream->switches();
  options.report->error = error;
}

// The client left: while `node` served it (with `gone` the attempt's outcome), or while it
// waited for a slot for the next attempt (no node).
void report_abandoned(const RelayOptions& options, const Tried& tried, const ContinuingSink* stream,
                      const cluster::NodeView* node, const Outcome* gone) {
  report(options, tried, stream, {});
  if (!options.report) return;
  options.report->abandoned = true;
  if (node) options.report->node_id = node->id;
  if (gone) {
    options.report->chunks = gone->chunks;
    options.report->bytes = gone->bytes;
    options.report->ttft_ms = gone->ttft_ms;
  }
  if (stream) options.report->tokens = stream->tokens();
}

}  // namespace

Upstream upstream_of(http::Exchange& ex) {
  const http::Request& request = ex.request();
  Upstream u;
  u.method = request.method();
  u.target = std::string(request.target());
  // The fields as sent, repeats kept, with room for the request id and a trace.
  u.headers.reserve(request.text_size() + 160);
  for (const auto& f : request)
    if (!hop_by_hop(f.name(), f.name_string())) u.headers.insert(f);
  add_trace_headers(ex, u);
  u.body = ex.take_body();
  return u;
}

void add_trace_headers(const http::Exchange& ex, Upstream& u) {
  const http::Request& request = ex.request();
  u.traced = true;
  // One pass drops what is set anew: the request id (when the guard made one), the trace, and
  // its state (which goes with a valid traceparent only).
  const bool id = !ex.request_id().empty();
  u.headers.erase_if([id](const http::FieldList::Field& f) {
    const std::string_view name = f.name_string();
    return (id && boost::beast::iequals(name, "X-Request-Id")) || boost::beast::iequals(name, "traceparent") ||
           boost::beast::iequals(name, "tracestate");
  });
  if (id) u.headers.insert("X-Request-Id", ex.request_id());
  if (auto it = request.find("traceparent"); it != request.end())
    if (auto next = next_traceparent(it->value())) {
      u.headers.insert("traceparent", *next);
      if (auto state = request.find("tracestate"); state != request.end()) u.headers.insert("tracestate", state->value());
    }
}

Deadline deadline_from_now(const Gateway& gw) {
  const auto total = gw.settings.timeouts.total;
  return total.count() > 0 ? std::chrono::steady_clock::now() + total : Deadline::max();
}

awaitable<void> relay(Gateway& gw, ReplySink& requester, std::shared_ptr<const cluster::Snapshot> snapshot,
                      const routing::Decision& decision, RelayOptions&& options) {
  if (!decision.ok()) {
    co_await requester.fail(decision.error_status, decision.error, 0);
    co_return;
  }
  // Streams of chat and generate replies are followed line by line, so that another node can
  // go on with one whose node breaks off (continuation.hpp).
  std::optional<ContinuingSink> stream;
  if (gw.settings.continue_streams && continuable(options.upstream)) stream.emplace(requester, gw.settings.limits);
  ReplySink& sink = stream ? static_cast<ReplySink&>(*stream) : requester;
  std::optional<Upstream> follow;  // the request that goes on with a broken stream
  std::string broken_from;         // the node whose stream broke off, until another goes on
  bool follow_as_chat = false;     // the continuation of a generate request is a chat
  std::optional<Outcome> declined;
  std::string failures;
  Tried tried;
  std::unique_ptr<Lease> lease = std::move(options.lease);
  while (static_cast<int>(tried.size()) < gw.settings.max_attempts) {
    if (!lease) {
      // A continuation's requester is waiting mid-reply: it goes before every queued request.
      const int priority = follow ? kContinuationPriority : options.priority;
      NextLease next = co_await next_lease(gw, sink, snapshot, decision, tried, options, priority);
      if (next.client_gone) {
        report_abandoned(options, tried, stream ? &*stream : nullptr, nullptr, nullptr);
        co_return;
      }
      if (!next.why.empty()) failures += (failures.empty() ? "" : "; ") + next.why;
      if (!next.lease) break;
      lease = std::move(next.lease);
    }
    const std::size_t index = lease->node();
    tried.push_back(index);
    const cluster::NodeView& node = snapshot->nodes[index];
    node.live->requests.fetch_add(1, std::memory_order_relaxed);
    Served served;
    served.index = index;
    served.node_id = node.id;
    served.node_url = node.url;
    served.model = options.model;
    served.cache = options.cache_label;
    served.reason = decision.reason;
    served.attempt = static_cast<int>(tried.size());
    if (served.attempt > 1)  // the node that serves it first: X-Hydra-Node names it too
      served.reason = fmt::format("failed over to {} (attempt {}; earlier nodes failed: {}); first choice: {}", node.id,
                                  served.attempt, failures, decision.reason);
    if (!broken_from.empty()) {
      stream->continue_with(Switch{std::exchange(broken_from, {}), node.id, stream->tokens()}, follow_as_chat);
      LogRequestScope scope(options.upstream.headers["X-Request-Id"]);
      spdlog::info("continuing a stream on {} after {} tokens", node.id, stream->tokens());
    }
    Outcome out;
    {  // the attempt's watch lives in this frame: the attempt needs none of its own
      AttemptWatch watch(gw, sink, node.index, options.deadline, co_await http::asio::this_coro::executor);
      out = co_await attempt(gw, sink, node, served, follow ? *follow : options.upstream, watch, lease);
      if (!watch.stop()) co_await watch.let_go();
    }
    lease.reset();  // the attempt is over (if its node's reply did not end first): its slot goes to the next waiter
    if (stream && (out.kind == Outcome::Kind::served || out.kind == Outcome::Kind::client_gone)) {
      // The connection ended well (or the sink stopped it), but the stream did not.
      if (std::string why = stream->take_failure(); !why.empty()) out = Outcome{Outcome::Kind::failed_mid_stream, why};
    }
    if (out.kind == Outcome::Kind::failed_mid_stream && stream && stream->finished()) {
      co_await sink.end();  // broke off after its final chunk: the requester has it all
      out = Outcome{Outcome::Kind::served};
    }
    switch (out.kind) {
      case Outcome::Kind::served:
        served.ttft_ms = out.ttft_ms;
        served.total_ms = out.total_ms;
        served.eval_count = out.eval_count;
        served.prompt_eval_count = out.prompt_eval_count;
        if (stream && !stream->switches().empty()) {
          served.continued = stream->switches();
          served.eval_count = stream->eval_count();
          served.reason = fmt::format("{} ({})", decision.reason, describe(served.continued));
          count_continuation(gw, "resumed");
        }
        gw.cluster.report_success(node);
        if (options.refresh_after) gw.cluster.request_refresh(index);
        if (options.served) *options.served = std::move(served);
        co_return;
      case Outcome::Kind::client_gone:
        report_abandoned(options, tried, stream ? &*stream : nullptr, &node, &out);
        co_return;
      case Outcome::Kind::interrupted:
        co_return;
      case Outcome::Kind::failed_mid_stream: {
        gw.cluster.report_failure(index, out.error);
        std::string message = fmt::format("node {} failed mid-stream: {}", node.id, out.error);
        std::string why_not = !stream ? (gw.settings.continue_streams || !continuable(options.upstream)
                                             ? ""
                                             : "failover.continue_streams is off")
                              : !stream->following() ? "the reply is not a stream"
                              : stream->tool_call()               ? "a tool call had started"
                              : !stream->text_kept()              ? "the reply is longer than limits.reply_mb"
                                                                  : "";
        if (stream && why_not.empty()) {
          FollowUp next = follow_up(options.upstream, stream->text(), stream->thinking(), stream->tokens());
          why_not = std::move(next.why_not);
          if (next.upstream) {
            LogRequestScope scope(options.upstream.headers["X-Request-Id"]);
            spdlog::warn("{}; looking for a node to continue the stream", message);
            follow = std::move(next.upstream);
            follow_as_chat = next.generate_as_chat;
            broken_from = node.id;
            failures += (failures.empty() ? "" : "; ") + message;
            break;
          }
        }
        if (stream || !why_not.empty())
          count_continuation(gw, stream && !stream->switches().empty() ? "failed" : "skipped");
        if (!why_not.empty()) message += fmt::format(" (not continued: {})", why_not);
        report(options, tried, stream ? &*stream : nullptr, message);
        co_await sink.broke(std::move(message));
        co_return;
      }
      case Outcome::Kind::node_declined:
        if (out.status == 404) gw.cluster.request_refresh(index);
        declined = std::move(out);
        break;
      case Outcome::Kind::node_failed:
        {
          LogRequestScope scope(options.upstream.headers["X-Request-Id"]);
          spdlog::warn("node {} failed before replying ({}); trying the next candidate", node.id, out.error);
        }
        gw.cluster.report_failure(index, out.error);
        failures += (failures.empty() ? "" : "; ") + node.id + ": " + out.error;
        if (out.status) declined = std::move(out);
        break;
    }
  }
  if (stream && stream->began()) {
    // The requester has part of the reply already: the stream ends with an error line.
    count_continuation(gw, "failed");
    std::string message =
        static_cast<int>(tried.size()) >= gw.settings.max_attempts
            ? fmt::format("the stream broke off and limits.max_attempts ({}) nodes were tried: {}",
                          gw.settings.max_attempts, failures)
            : fmt::format("the stream broke off and no other node with the model could continue it: {}", failures);
    report(options, tried, &*stream, message);
    co_await sink.broke(std::move(message));
    co_return;
  }
  if (declined && declined->status) {
    co_await sink.declined(declined->status, std::move(declined->content_type), std::move(declined->body));
    co_return;
  }
  co_await sink.fail(502, fmt::format("no node could serve the request: {}", failures), 0);
  co_return;
}

}  // namespace hydra::api
