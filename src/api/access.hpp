#pragma once
// Who may call what (issue #15). Every request passes one guard before its handler: the route's
// access class (open, read, use, admin, node management, metrics), the key it presents
// (Authorization: Bearer KEY or X-API-Key: KEY), the key's limits, and which port it came in on
// (the dashboard port serves the page and read-only views only). With no keys configured the
// API is open, as Ollama is.
#include "api/cors.hpp"
#include "auth/keys.hpp"
#include "common/shared_value.hpp"

#include <atomic>
#include "auth/limiter.hpp"
#include "http/server.hpp"
#include "telemetry/metrics.hpp"

#include <memory>

namespace hydra::api {

struct Gateway;

enum class Access {
  open,     // anyone: /health, /, /api/version, the dashboard's page and assets
  read,     // any key: model lists, one's own orchestration runs
  use,      // any key, counted against its limits: model requests, /generate, POST /orchestrate
  admin,    // admin keys: the live views (/nodes /routing /stats /events /requests /traffic), model
            // management
  nodes,    // admin keys or the registration token: register, heartbeat, delete a node
  metrics,  // /metrics: open, or admin keys with auth.metrics = "admin"
};
enum class Port { api, dashboard };

// The route's class. `port` matters for paths the dashboard port serves as page assets.
Access access_of(http::bhttp::verb method, std::string_view path, Port port);
// Whether the dashboard port serves this request (the page, its assets and the read-only
// views it needs); everything else is only on the API port.
bool dashboard_serves(http::bhttp::verb method, std::string_view path);

// Node management (register, heartbeat, delete) when no keys are configured: the registration
// token when one is set; else open on loopback, closed when Hydra listens beyond it unless
// discovery.open_registration says otherwise.
enum class NodesRule { allow, need_token, closed };
NodesRule nodes_rule_without_keys(bool has_token, bool exposed, bool open_registration);

// The key set in force: read by every request on any thread, swapped whole on SIGHUP.
class SharedKeys {
public:
  SharedKeys() : keys_(std::make_shared<const auth::KeySet>()) {}
  std::shared_ptr<const auth::KeySet> load() const { return keys_.load(); }
  operator std::shared_ptr<const auth::KeySet>() const { return load(); }
  std::shared_ptr<const auth::KeySet> operator->() const { return load(); }
  SharedKeys& operator=(std::shared_ptr<const auth::KeySet> keys) {
    keys_.store(std::move(keys));
    return *this;
  }

private:
  SharedValue<const auth::KeySet> keys_;
};

struct AuthSettings {
  SharedKeys keys;                // swapped on reload
  bool metrics_admin = false;     // auth.metrics = "admin"
  bool open_registration = false; // discovery.open_registration
  bool exposed = false;           // the API listens on a non-loopback address
  CorsSettings cors;              // which browser origins may call (cors.hpp)
};

// The key a request came with, for the handlers behind the guard. No key: the API is open (no
// keys configured) or the registration token was used.
struct Caller {
  const auth::Key* key = nullptr;
  std::shared_ptr<const auth::KeySet> keys;  // keeps `key` alive across a reload
  http::Exchange* exchange = nullptr;        // for the rate-limit headers of its reply
  int64_t rpm_used = -1;  // several gateways: the key's requests in the last minute, all of them counted
  bool counted = false;    // counted against the key's limits (a model request, /generate, /orchestrate)
  std::string rpm_member;  // several gateways: its entry in the key's rpm window in Redis
  bool admin() const { return !key || key->admin; }
  std::string_view name() const { return key ? std::string_view(key->name) : std::string_view(); }
};

// The caller the guard attached to this exchange, or nullptr (the guard did not run: tests of
// one handler, the orchestrator's own calls).
const Caller* caller_of(const http::Exchange& ex);
// Whether `caller` may see a run owned by `owner` ("" = made with no key).
bool may_see(const Caller* caller, std::string_view owner);

// Each configured key's accounting (and "" for refusals of requests without a valid key), for
// /stats and /metrics; empty when no keys are configured.
std::vector<telemetry::KeySample> key_samples(const Gateway& gw);

// The key's x-ratelimit-* headers as they stand now, on the caller's reply (again, after a
// request was taken back).
void add_rate_headers(Gateway& gw, const Caller& caller);
// A request refused for a model the key may not use: counted as that refusal; when the guard
// had counted it against the key's limits (here and in Redis), it is taken back, and the reply's
// headers say so.
void take_back(Gateway& gw, const Caller& caller, auth::Refusal why);

// Wraps a port's handler with the guard.
http::Handler guarded(Gateway& gw, http::Handler inner, Port port);
// What the guard does for a request the HTTP server refused before any handler (413, 431,
// 408, 400): its X-Request-Id on the reply, and its access-log line (http::Server::on_refusal).
http::RefusalHook refusals(Gateway& gw);

// The presented key: Authorization: Bearer, X-API-Key, or (for EventSource, which cannot send
// headers) the `key` query parameter of GET /events.
std::string presented_key(const http::Exchange& ex);

}  // namespace hydra::api
