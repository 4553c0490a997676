// Hydra's orchestration API: POST /orchestrate runs a task (analyse, decompose, run sub-tasks
// in parallel across the fleet, synthesise), whole or streamed as Server-Sent Events of its
// progress; GET /orchestrate/{task_id} reads a run (running or finished) from the run store;
// GET /orchestrate lists recent runs. At most orchestrate.max_runs run at once (beyond: 429 with
// Retry-After); a run whose client leaves before its whole answer is cancelled.
#include "api/client_watch.hpp"
#include "api/exchange_sink.hpp"
#include "api/gateway.hpp"
#include "api/shared_sync.hpp"
#include "api/hints.hpp"
#include "api/model_caller.hpp"
#include "api/sse.hpp"
#include "common/json.hpp"
#include "common/limits.hpp"
#include "common/model_name.hpp"
#include "orchestrate/orchestrator.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace hydra::api {

namespace json = boost::json;
using http::awaitable;
using http::bhttp::status;

namespace {

struct OrchestrateBody {
  orchestrate::TaskRequest task;
  bool stream = false;
};

// {task (or prompt), models?, max_subtasks?, fanout?, priority?, stream?}; unknown fields ignored.
std::variant<OrchestrateBody, JsonError> parse_orchestrate(std::string_view text) {
  auto parsed = parse_json_object(text);
  if (auto* err = std::get_if<JsonError>(&parsed)) return *err;
  const auto& body = std::get<json::object>(parsed);
  FieldReader f(body);
  OrchestrateBody out;
  auto task = f.string("task");
  auto prompt = f.string("prompt");  // the original API's name for it
  const json::array* models = f.array("models");
  auto max_subtasks = f.integer("max_subtasks");
  auto fanout = f.integer("fanout");
  auto priority = f.integer("priority");
  out.stream = f.boolean("stream").value_or(false);
  if (f.error) return *f.error;
  out.task.task = task ? *task : prompt.value_or("");
  if (out.task.task.find_first_not_of(" \t\r\n") == std::string::npos) return JsonError{"task is required"};
  if (models)
    for (const auto& m : *models) {
      if (!m.is_string() || m.get_string().empty()) return JsonError{"models must be a list of model names"};
      if (m.get_string().size() > limits::kNameBytes)
        return JsonError{"models: a model name is at most " + std::to_string(limits::kNameBytes) + " bytes"};
      out.task.models.emplace_back(m.get_string());
    }
  if (max_subtasks && (*max_subtasks < 1 || *max_subtasks > orchestrate::kMaxSubtasks))
    return JsonError{"max_subtasks must be an integer from 1 to " + std::to_string(orchestrate::kMaxSubtasks)};
  if (fanout && (*fanout < 1 || *fanout > orchestrate::kMaxFanout))
    return JsonError{"fanout must be an integer from 1 to " + std::to_string(orchestrate::kMaxFanout)};
  if (priority && (*priority < 1 || *priority > 10)) return JsonError{"priority must be an integer from 1 to 10"};
  if (max_subtasks) out.task.max_subtasks = static_cast<int>(*max_subtasks);
  if (fanout) out.task.fanout = static_cast<int>(*fanout);
  if (priority) out.task.priority = static_cast<int>(*priority);
  return out;
}

// Every run's progress also goes to the dashboard (`orchestration` events).
orchestrate::EventFn tapped(Gateway& gw, const std::string& task_id, orchestrate::EventFn inner) {
  return [&gw, task_id, inner = std::move(inner)](std::string_view name, const json::object& data) {
    if (inner) inner(name, data);
    json::object e = json_field("task_id", task_id);
    e["event"] = name;
    e["data"] = data;
    gw.telemetry.events.publish("orchestration", e);
  };
}

// Seconds a client refused for too many runs is told to wait: runs take seconds to minutes.
constexpr int kBusyRetryAfterS = 5;

std::string busy_message(const Gateway& gw) {
  return "too many orchestrations are running (orchestrate.max_runs = " +
         std::to_string(gw.orchestrator->settings().max_runs) + "); try again later";
}

awaitable<void> run_then_close(Gateway& gw, orchestrate::TaskRequest task, SsePipe& pipe) {
  orchestrate::EventFn to_client = [&pipe](std::string_view name, const json::object& data) { pipe.push(name, data); };
  orchestrate::EventFn on_event = tapped(gw, task.task_id, std::move(to_client));
  co_await gw.orchestrator->run(std::move(task), std::move(on_event));
  pipe.close();
}

// The run belongs to the caller's key; its priority is capped by the key's max_priority. A key
// limited to some models may orchestrate only with `models` it may use, and the run's own
// steps (analysis, synthesis) use the role models, which must be allowed too. Empty: go on.
std::string apply_key(Gateway& gw, const Caller* caller, orchestrate::TaskRequest& task) {
  if (!caller || !caller->key) return {};
  const auth::Key& key = *caller->key;
  task.owner = key.name;
  if (key.max_priority > 0) task.priority = std::min(task.priority.value_or(key.max_priority), key.max_priority);
  if (key.models.empty()) return {};
  std::vector<std::pair<std::string, std::string>> used;  // model, what it is for
  for (const auto& m : task.models) used.emplace_back(m, "");
  const std::pair<const std::string*, const char*> roles[] = {
      {&gw.models.light_model, "light"}, {&gw.models.heavy_model, "heavy"}, {&gw.models.code_model, "code"},
      {&gw.models.reasoning_model, "reasoning"}, {&gw.models.general_model, "general"}};
  for (const auto& [model, role] : roles)
    if (!model->empty()) used.emplace_back(*model, role);
  if (task.models.empty()) {
    take_back(gw, *caller, auth::Refusal::model);
    return fmt::format("key \"{}\" may use some models only: name them in \"models\"", key.name);
  }
  for (const auto& [model, role] : used)
    if (!auth::model_allowed(key, model)) {
      take_back(gw, *caller, auth::Refusal::model);
      if (role.empty()) return fmt::format("key \"{}\" may not use model \"{}\"", key.name, model);
      return fmt::format("key \"{}\" may not use model \"{}\", the orchestrator's {} role model (models.{}), which "
                         "every run uses for its own steps",
                         key.name, model, role, role);
    }
  return {};
}

// A model named in `models` that no reachable node has is the caller's mistake: said, not
// silently replaced by a near name. Empty: all are there.
std::string missing_model(const cluster::Snapshot& snapshot, const std::vector<std::string>& wanted) {
  const std::vector<std::string> available = available_models(snapshot);
  for (const auto& w : wanted) {
    const std::string name = normalize_model_name(w);
    const bool there = std::any_of(available.begin(), available.end(),
                                   [&](const std::string& a) { return normalize_model_name(a) == name; });
    if (there) continue;
    if (available.empty()) return fmt::format("model \"{}\" is not on any reachable node (none reports a model)", w);
    return fmt::format("model \"{}\" is not on any reachable node; the fleet has: {}", w, fmt::join(available, ", "));
  }
  return {};
}

awaitable<void> start(Gateway& gw, http::Exchange& ex) {
  auto parsed = parse_orchestrate(ex.body());
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    co_await ex.respond_error(status::bad_request, err->message);
    co_return;
  }
  OrchestrateBody& body = std::get<OrchestrateBody>(parsed);
  routing::RouteRequest hints;  // sub-tasks are routed one by one; a malformed hint is still a 400
  if (std::string bad_hint = read_hint_headers(ex.request(), hints); !bad_hint.empty()) {
    co_await ex.respond_error(status::bad_request, bad_hint);
    co_return;
  }
  if (std::string refused = apply_key(gw, caller_of(ex), body.task); !refused.empty()) {
    co_await ex.respond_error(status::forbidden, refused);
    co_return;
  }
  if (std::string missing = missing_model(*gw.cluster.snapshot(), body.task.models); !missing.empty()) {
    co_await ex.respond_error(status::bad_request, missing);
    co_return;
  }
  std::optional<orchestrate::RunPermit> permit = gw.orchestrator->try_admit();
  if (!permit) {
    co_await reply_error(ex, 429, busy_message(gw), kBusyRetryAfterS);
    co_return;
  }
  body.task.task_id = orchestrate::new_task_id();
  // Known from the first byte: a client that leaves early can still read the run later.
  ex.add_reply_header("X-Hydra-Task-Id", body.task.task_id);
  if (!body.stream) {
    // Nothing goes to the client until the end: watch it, and cancel the run if it leaves.
    ClientWatch watch(ex, co_await http::asio::this_coro::executor);
    body.task.cancel = watch.signal();
    orchestrate::EventFn on_event = tapped(gw, body.task.task_id, {});
    auto work = gw.orchestrator->run(std::move(body.task), std::move(on_event));
    orchestrate::Run run = co_await watch.run(std::move(work));
    permit.reset();  // the run is over: its place is free before the client reads the answer
    if (watch.left()) co_return;
    // A failed run is still a record: it says what happened (error, sub-tasks), with 502.
    const bool done = run.status == orchestrate::RunStatus::done;
    co_await ex.respond_json(done ? status::ok : status::bad_gateway, orchestrate::to_json(run));
    co_return;
  }
  if (co_await begin_sse(ex)) co_return;
  using namespace http::asio::experimental::awaitable_operators;
  SsePipe pipe(co_await http::asio::this_coro::executor);
  co_await (run_then_close(gw, std::move(body.task), pipe) && pipe.write_to(ex));
}

awaitable<void> read_run(Gateway& gw, http::Exchange& ex) {
  std::string id(ex.path().substr(std::string_view("/orchestrate/").size()));
  auto run = gw.runs->load(id);
  if (!run && gw.shared && !gw.shared->degraded()) {  // several gateways: started on another one
    if (auto text = co_await gw.shared->shared().get_run(id)) {
      auto parsed = parse_json_object(*text);
      if (auto* o = std::get_if<json::object>(&parsed)) run = std::move(*o);
    }
  }
  const json::value* owner = run ? run->if_contains("owner") : nullptr;
  const std::string_view owned_by = owner && owner->is_string() ? std::string_view(owner->get_string()) : "";
  if (!run || !may_see(caller_of(ex), owned_by)) {  // another key's run: as if there were none
    co_await ex.respond_error(status::not_found, "no orchestration run with task_id \"" + id + "\"");
    co_return;
  }
  co_await ex.respond_json(status::ok, *run);
}

// Admin keys (and an open API) see every run; other keys their own.
json::object recent_runs(orchestrate::RunStore& store, const Caller* caller) {
  std::optional<std::string> owner;
  if (caller && !caller->admin()) owner = std::string(caller->name());
  json::array runs;
  for (auto& r : store.recent(50, owner)) runs.push_back(std::move(r));
  return json_field("runs", std::move(runs));
}

}  // namespace

void add_orchestrate_routes(http::Router& router, Gateway& gw) {
  using http::bhttp::verb;
  router.add(verb::post, "/orchestrate", [&gw](http::Exchange& ex) { return start(gw, ex); });
  router.add(verb::get, "/orchestrate", [&gw](http::Exchange& ex) -> awaitable<void> {
    co_await ex.respond_json(status::ok, recent_runs(*gw.runs, caller_of(ex)));
  });
  router.add_prefix(verb::get, "/orchestrate/", [&gw](http::Exchange& ex) { return read_run(gw, ex); });
}

}  // namespace hydra::api
