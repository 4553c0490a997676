#include "api/access.hpp"

#include "api/request_id.hpp"

#include "api/gateway.hpp"
#include "api/openai/errors.hpp"
#include "api/shared_sync.hpp"
#include "common/query.hpp"
#include "http/per_context.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <optional>
#include <utility>

namespace hydra::api {

namespace {

using http::bhttp::verb;

bool one_of(std::string_view path, std::initializer_list<std::string_view> paths) {
  for (auto p : paths)
    if (path == p) return true;
  return false;
}

// Ollama's shape, or OpenAI's under /v1/ with the given type and code.
std::string refusal_body(int status, std::string_view message, std::string_view target, std::string_view type,
                         std::string_view code) {
  if (!target.starts_with("/v1/"))
    return http::ollama_error_body(static_cast<http::bhttp::status>(status), message);
  auto e = openai::make_error(status, std::string(message), std::nullopt, std::string(code));
  e.type = std::string(type);
  return openai::error_body(e);
}

http::awaitable<void> refuse(http::Exchange& ex, int status, std::string message, std::string_view type,
                             std::string_view code) {
  std::string body = refusal_body(status, message, ex.request().target(), type, code);
  co_await ex.respond(static_cast<http::bhttp::status>(status), std::move(body));
}

// Hands the key's concurrency slot back once: when the reply is settled (its last chunk goes
// out, http::Exchange::settle), or however else the request ends (a coroutine frame destroyed
// at shutdown included).
struct InProgress {
  auth::Limiter& limiter;
  const auth::Key& key;
  SharedSync* sync = nullptr;  // several gateways
  bool counted = false;        // the place is held in Redis too (confirmed there)
  bool done = false;
  void release() {
    if (std::exchange(done, true)) return;
    limiter.finish(key);
    if (sync && counted) sync->shared().finish_key(key.name);
  }
  ~InProgress() { release(); }
};

// Several gateways: the key's rpm and max_concurrent count across all of them (Redis). A
// refusal there undoes what this gateway counted; Redis unreachable: this gateway's own count
// decides alone.
http::awaitable<auth::Verdict> admit_shared(Gateway& gw, const auth::Key& key, InProgress& in_progress,
                                            Caller& caller) {
  auth::Verdict v;
  if (!gw.shared || gw.shared->degraded() || (!key.rpm && !key.max_concurrent)) co_return v;
  auto got = co_await gw.shared->shared().admit_key(key.name, static_cast<int64_t>(key.rpm),
                                                   static_cast<int64_t>(key.max_concurrent));
  if (!got) co_return v;
  if (got->refusal.empty()) {
    in_progress.counted = key.max_concurrent > 0;
    caller.rpm_used = got->rpm_used;
    caller.rpm_member = std::move(got->member);
    co_return v;
  }
  if (got->refusal == "rpm") caller.rpm_used = static_cast<int64_t>(key.rpm);
  v.refusal = got->refusal == "rpm" ? auth::Refusal::rpm : auth::Refusal::concurrency;
  v.retry_after = std::chrono::milliseconds(got->retry_ms);
  gw.limiter.take_back(key);
  gw.limiter.count_refusal(key.name, v.refusal);
  in_progress.release();
  co_return v;
}

// Node management with no keys configured: the registration token when one is set; when Hydra
// listens beyond loopback with neither, registration stays closed unless opened on purpose.
http::awaitable<bool> nodes_allowed_without_keys(Gateway& gw, http::Exchange& ex) {
  const std::string& token = gw.registration.token;
  switch (nodes_rule_without_keys(!token.empty(), gw.auth.exposed, gw.auth.open_registration)) {
    case NodesRule::allow: co_return true;
    case NodesRule::need_token:
      if (auth::equal_secret(presented_key(ex), token)) co_return true;
      co_await ex.respond_error(http::bhttp::status::unauthorized, "managing nodes needs the gateway's token");
      co_return false;
    case NodesRule::closed: break;
  }
  co_await ex.respond_error(http::bhttp::status::forbidden,
                            "registration is closed: Hydra listens beyond loopback with no registration token and no "
                            "API keys. Set discovery.token (HYDRA_REGISTRATION_TOKEN), configure API keys, or set "
                            "discovery.open_registration = true");
  co_return false;
}

// A browser page from an allowed origin may read the reply: its headers are added here. True
// for a preflight (OPTIONS), which answer_preflight() answers, for every path. Not a coroutine:
// every request passes here.
bool cors(Gateway& gw, http::Exchange& ex) {
  const auto& req = ex.request();
  const std::string_view origin = req[http::bhttp::field::origin];
  const bool allowed = !origin.empty() && origin_allowed(gw.auth.cors, origin, req[http::bhttp::field::host]);
  if (allowed) {
    ex.add_reply_header("Access-Control-Allow-Origin", std::string(origin));
    ex.add_reply_header("Vary", "Origin");
    ex.add_reply_header("Access-Control-Expose-Headers", std::string(kCorsExposed));
  }
  if (req.method() != verb::options) return false;
  if (allowed) {
    ex.add_reply_header("Access-Control-Allow-Methods", std::string(kCorsMethods));
    ex.add_reply_header("Access-Control-Allow-Headers",
                        allowed_headers(req[http::bhttp::field::access_control_request_headers]));
    ex.add_reply_header("Access-Control-Max-Age", "600");
  }
  return true;
}

http::awaitable<void> answer_preflight(http::Exchange& ex) {
  http::Response res{http::bhttp::status::no_content, ex.request().version()};
  co_await ex.respond(std::move(res));
}

// With API keys: the route's class decides what key it needs; a key's limits and accounting
// go around the handler.
http::awaitable<void> checked_with_keys(Gateway& gw, const http::Handler& inner, http::Exchange& ex, Access access,
                                        std::shared_ptr<const auth::KeySet> keys) {
  if (access == Access::open || (access == Access::metrics && !gw.auth.metrics_admin)) {
    co_await inner(ex);
    co_return;
  }
  const std::string presented = presented_key(ex);
  if (access == Access::nodes && !gw.registration.token.empty() && auth::equal_secret(presented, gw.registration.token)) {
    co_await inner(ex);  // an agent with the registration token
    co_return;
  }
  auth::Limiter& limiter = gw.limiter;
  if (presented.empty()) {
    limiter.count_refusal("", auth::Refusal::missing_key);
    ex.add_reply_header("WWW-Authenticate", "Bearer realm=\"hydra\"");
    co_await refuse(ex, 401,
                    "an API key is required: send it as Authorization: Bearer KEY or X-API-Key: KEY (hydra's own "
                    "client commands: set HYDRA_API_KEY)",
                    "invalid_request_error", "invalid_api_key");
    co_return;
  }
  const auth::Key* key = keys->find(presented);
  if (!key) {
    limiter.count_refusal("", auth::Refusal::unknown_key);
    ex.add_reply_header("WWW-Authenticate", "Bearer realm=\"hydra\", error=\"invalid_token\"");
    co_await refuse(ex, 401, "invalid API key", "invalid_request_error", "invalid_api_key");
    co_return;
  }
  if ((access == Access::admin || access == Access::nodes || access == Access::metrics) && !key->admin) {
    limiter.count_refusal(key->name, auth::Refusal::not_admin);
    co_await refuse(ex, 403, fmt::format("key \"{}\" is not an admin key, and {} needs one", key->name, ex.path()),
                    "permission_error", "not_admin");
    co_return;
  }
  Caller caller{key, keys, &ex};
  ex.set_context(&caller);
  if (auto* entry = static_cast<telemetry::AccessEntry*>(ex.log_context())) entry->key = key->name;
  if (access != Access::use) {
    co_await inner(ex);
    co_return;
  }
  auth::Verdict verdict = limiter.admit(*key, std::chrono::steady_clock::now());
  std::optional<InProgress> in_progress;
  if (verdict) {
    in_progress.emplace(limiter, *key, gw.shared);
    verdict = co_await admit_shared(gw, *key, *in_progress, caller);
  }
  caller.counted = static_cast<bool>(verdict);
  add_rate_headers(gw, caller);
  if (!verdict) {
    ex.add_reply_header("Retry-After", std::to_string(auth::retry_after_seconds(verdict.retry_after)));
    const uint64_t limit = verdict.refusal == auth::Refusal::rpm   ? key->rpm
                           : verdict.refusal == auth::Refusal::tpm ? key->tpm
                                                                   : key->max_concurrent;
    const char* s = limit == 1 ? "" : "s";
    const std::string what = verdict.refusal == auth::Refusal::rpm   ? fmt::format("request{} per minute", s)
                             : verdict.refusal == auth::Refusal::tpm ? fmt::format("generated token{} per minute", s)
                                                                     : fmt::format("request{} at once", s);
    co_await refuse(ex, 429,
                    fmt::format("rate limit reached for key \"{}\": {} {}; retry after {} s", key->name, limit, what,
                                auth::retry_after_seconds(verdict.retry_after)),
                    verdict.refusal == auth::Refusal::tpm ? "tokens" : "requests", "rate_limit_exceeded");
    co_return;
  }
  ex.on_settled([&in_progress] { in_progress->release(); });
  co_await inner(ex);
  ex.on_settled({});
}

// (The wait named, not in the condition: g++ 12 miscompiles a co_await there.)
http::awaitable<void> nodes_checked(Gateway& gw, const http::Handler& inner, http::Exchange& ex) {
  const bool allowed = co_await nodes_allowed_without_keys(gw, ex);
  if (allowed) co_await inner(ex);
}

// Not a coroutine: without API keys a request goes on to `inner` with no frame of this one's.
http::awaitable<void> checked(Gateway& gw, const http::Handler& inner, http::Exchange& ex, Port port) {
  const verb method = ex.request().method();
  if (cors(gw, ex)) return answer_preflight(ex);
  if (port == Port::dashboard && !dashboard_serves(method, ex.path()))
    return refuse(ex, 404, fmt::format("{} is not served on the dashboard's port; use the API's port", ex.path()),
                  "invalid_request_error", "not_found");
  const Access access = access_of(method, ex.path(), port);
  std::shared_ptr<const auth::KeySet> keys = gw.auth.keys;
  if (keys->empty()) return access == Access::nodes ? nodes_checked(gw, inner, ex) : inner(ex);
  return checked_with_keys(gw, inner, ex, access, std::move(keys));
}

// The access-log line's common part (what the handlers noted is in `entry` already).
void fill_access(telemetry::AccessEntry& entry, std::string_view id, std::string_view client,
                 std::string_view method, std::string_view route, int status) {
  entry.at = std::chrono::system_clock::now();
  entry.request_id = id;
  entry.client = client;
  entry.method = method;
  entry.route = route;
  entry.status = status;
}

// One io_context's access-log lines not yet written: written together when the current turn of
// its event loop ends, or when the batch goes with its last holder (the requests in progress
// on the context hold it, and the write queued for the turn's end).
struct AccessLines {
  explicit AccessLines(const http::asio::any_io_executor& ex) : loop(ex) {}
  http::asio::any_io_executor loop;
  telemetry::AccessBatch batch;
  bool scheduled = false;
};

void write_this_turn(const std::shared_ptr<AccessLines>& lines) {
  if (lines->scheduled) return;
  lines->scheduled = true;
  http::asio::post(lines->loop, [lines] {
    lines->scheduled = false;
    lines->batch.write();
  });
}

// Every request: its id (on every reply, and sent on to the node), the checks, and at the end
// its access-log line, with what the handlers noted in it (the model, the node...).
http::awaitable<void> guard(Gateway& gw, const http::Handler& inner, http::Exchange& ex, Port port) {
  // A request in progress for the shutdown's grace (api/lifecycle.hpp); not the dashboard's
  // endless event stream, nor /health (which reports the count).
  std::optional<Lifecycle::Guard> in_progress;
  if (ex.path() != "/events" && ex.path() != "/health") in_progress.emplace(gw.lifecycle);
  ex.set_request_id(request_id_for(ex.request()["X-Request-Id"]));  // and every reply says it
  const telemetry::AccessLog& log = gw.telemetry.access;
  if (!log.enabled()) {
    co_await checked(gw, inner, ex, port);
    co_return;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto lines = http::per_context<AccessLines>(co_await http::asio::this_coro::executor);
  telemetry::AccessEntry entry;
  ex.set_log_context(&entry);
  co_await checked(gw, inner, ex, port);
  ex.set_log_context(nullptr);
  entry.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const int status = ex.status() ? ex.status() : entry.outcome == "abandoned" ? 499 : 0;  // as in the request log
  fill_access(entry, ex.request_id(), ex.remote_text(), ex.method_string(), ex.path(), status);
  log.add(entry, lines->batch);
  write_this_turn(lines);
}

}  // namespace

NodesRule nodes_rule_without_keys(bool has_token, bool exposed, bool open_registration) {
  if (has_token) return NodesRule::need_token;
  return exposed && !open_registration ? NodesRule::closed : NodesRule::allow;
}

Access access_of(verb method, std::string_view path, Port port) {
  // The data path's busiest routes first (answered as below, sooner).
  if (method == verb::post && (path == "/api/chat" || path == "/api/generate" || path == "/v1/chat/completions"))
    return Access::use;
  if (method == verb::options) return Access::open;
  if (path == "/health" || path == "/api/version" || path == "/dashboard/config") return Access::open;
  if (path == "/") return Access::open;  // Ollama's "Ollama is running"; the dashboard's page
  if (path == "/metrics") return Access::metrics;
  if (path == "/nodes/register" || (path.starts_with("/nodes/") && (method == verb::post || method == verb::delete_)))
    return Access::nodes;
  if (one_of(path, {"/nodes", "/routing", "/stats", "/events", "/requests", "/traffic", "/cache"})) return Access::admin;
  if (one_of(path, {"/api/delete", "/api/pull", "/api/create", "/api/push", "/api/copy"}) ||
      path.starts_with("/api/blobs/"))
    return Access::admin;
  if (method == verb::post &&
      (one_of(path, {"/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/generate", "/generate/stream",
                     "/orchestrate"}) ||
       path.starts_with("/v1/")))
    return Access::use;
  // The dashboard's page and assets; on the API port an unknown path needs a key to learn it
  // is unknown.
  if (port == Port::dashboard && (method == verb::get || method == verb::head) && !path.starts_with("/api/") &&
      !path.starts_with("/v1/") && !path.starts_with("/orchestrate") && path != "/models")
    return Access::open;
  return Access::read;
}

bool dashboard_serves(verb method, std::string_view path) {
  if (method != verb::get && method != verb::head) return false;
  if (path.starts_with("/api/") || path.starts_with("/v1/") || path.starts_with("/generate")) return false;
  if (path.starts_with("/nodes/")) return false;
  return true;  // the page, its assets, /health /stats /models /routing /nodes /events /requests
               // /traffic /metrics, runs
}

std::vector<telemetry::KeySample> key_samples(const Gateway& gw) {
  std::vector<telemetry::KeySample> out;
  if (gw.auth.keys->empty()) return out;
  const auto& stats = gw.limiter.stats();
  auto sample = [&](std::string_view name) {
    telemetry::KeySample k;
    k.name = std::string(name);
    if (auto it = stats.find(name); it != stats.end()) {
      k.requests = it->second.requests;
      k.tokens = it->second.tokens;
      k.in_progress = it->second.in_progress;
      k.refused = it->second.refused;
    }
    out.push_back(std::move(k));
  };
  for (const auto& key : gw.auth.keys->keys) sample(key.name);
  for (const auto& [name, s] : stats)  // "" and keys revoked since
    if (!gw.auth.keys->named(name)) sample(name);
  return out;
}

void add_rate_headers(Gateway& gw, const Caller& caller) {
  if (!caller.key || !caller.exchange) return;
  for (auto& [name, value] : gw.limiter.headers(*caller.key, std::chrono::steady_clock::now()).fields) {
    if (name == "x-ratelimit-remaining-requests" && caller.rpm_used >= 0)  // counted across gateways
      value = std::to_string(std::max<int64_t>(0, static_cast<int64_t>(caller.key->rpm) - caller.rpm_used));
    caller.exchange->add_reply_header(std::move(name), std::move(value));
  }
}

void take_back(Gateway& gw, const Caller& caller, auth::Refusal why) {
  if (!caller.key) return;
  gw.limiter.count_refusal(caller.key->name, why);
  if (!caller.counted) return;  // /api/show and the like: nothing to give back
  gw.limiter.take_back(*caller.key);
  if (!gw.shared || caller.rpm_member.empty()) {
    add_rate_headers(gw, caller);
    return;
  }
  gw.shared->shared().take_back_key(caller.key->name, caller.rpm_member);
  Caller after = caller;  // the window across gateways holds one request less now
  if (after.rpm_used > 0) --after.rpm_used;
  add_rate_headers(gw, after);
}

const Caller* caller_of(const http::Exchange& ex) { return static_cast<const Caller*>(ex.context()); }

bool may_see(const Caller* caller, std::string_view owner) {
  if (!caller || caller->admin()) return true;
  return caller->name() == owner;
}

http::RefusalHook refusals(Gateway& gw) {
  return [&gw](const http::Refused& r, http::Response& res) {
    const RequestIdText id = request_id_for(r.request_id);
    res.set("X-Request-Id", id.view());
    const telemetry::AccessLog& log = gw.telemetry.access;
    if (!log.enabled()) return;
    telemetry::AccessEntry entry;
    const std::string client = http::address_text(r.remote.address());
    fill_access(entry, id, client, r.method, r.target.substr(0, r.target.find('?')), r.status);
    log.write(entry);  // a refusal: rare, written at once
  };
}

http::Handler guarded(Gateway& gw, http::Handler inner, Port port) {
  return [&gw, inner = std::move(inner), port](http::Exchange& ex) { return guard(gw, inner, ex, port); };
}

std::string presented_key(const http::Exchange& ex) {
  const auto& req = ex.request();
  if (auto it = req.find(http::bhttp::field::authorization); it != req.end()) {
    std::string_view v = it->value();
    if (v.size() > 7 && (v.starts_with("Bearer ") || v.starts_with("bearer "))) {
      v.remove_prefix(7);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
  }
  if (auto it = req.find("X-API-Key"); it != req.end()) return std::string(it->value());
  if (ex.path() == "/events") {
    // EventSource sends no headers: ?key=... (never logged: the routing log and request
    // counts keep the path only).
    if (auto key = query_param(ex.query(), "key")) return std::move(*key);
  }
  return {};
}

}  // namespace hydra::api
