// Test controls that a real Ollama does not have: fault injection and counters.
//   POST /_sim/fault {"mode": "none|refuse|error500|hang|slow|cut|error_line|flood", "count": n,
//                     "after_tokens": n, "factor": x, "status": n, "message": s, "for_ms": n}
//   (cut drops the connection after after_tokens streamed tokens, error_line sends an
//   {"error":...} line there and ends the stream; "after_chunks" is the old name)
//   GET  /_sim/stats
#include "common/json.hpp"
#include "sim/node.hpp"

#include <boost/asio/co_spawn.hpp>
#include "common/spawn.hpp"
#include <boost/asio/steady_timer.hpp>

namespace hydra::sim {

namespace json = boost::json;
using http::bhttp::status;
using http::bhttp::verb;

namespace {

std::optional<Fault::Mode> mode_from(std::string_view s) {
  if (s == "none") return Fault::Mode::none;
  if (s == "refuse") return Fault::Mode::refuse;
  if (s == "error500") return Fault::Mode::error500;
  if (s == "hang") return Fault::Mode::hang;
  if (s == "slow") return Fault::Mode::slow;
  if (s == "cut") return Fault::Mode::cut;
  if (s == "error_line") return Fault::Mode::error_line;
  if (s == "flood") return Fault::Mode::flood;  // megabytes of one endless line
  return std::nullopt;
}

http::awaitable<void> restore_after(Node& node, std::chrono::milliseconds delay) {
  http::asio::steady_timer timer(node.executor());
  timer.expires_after(delay);
  co_await timer.async_wait(http::use_nothrow);
  if (node.fault().mode == Fault::Mode::refuse) node.set_fault(Fault{});
}

http::awaitable<void> set_fault(Node& node, http::Exchange& ex) {
  auto parsed = parse_json_object(ex.body());
  if (auto* err = std::get_if<JsonError>(&parsed)) {
    co_await ex.respond_error(status::bad_request, err->message);
    co_return;
  }
  FieldReader r{std::get<json::object>(parsed)};
  Fault f;
  auto mode = mode_from(r.string("mode").value_or(""));
  if (!mode) {
    co_await ex.respond_error(status::bad_request,
                              "mode must be one of none, refuse, error500, hang, slow, cut, error_line, flood");
    co_return;
  }
  f.mode = *mode;
  f.remaining = static_cast<int>(r.integer("count").value_or(-1));
  f.after_chunks = static_cast<int>(r.integer("after_tokens").value_or(r.integer("after_chunks").value_or(1)));
  f.slow_factor = r.number("factor").value_or(10);
  f.status = static_cast<int>(r.integer("status").value_or(500));
  f.message = r.string("message").value_or("simulated failure");
  auto for_ms = r.integer("for_ms");
  if (r.error || f.status < 400 || f.status > 599) {
    const std::string message = r.error ? r.error->message : "status must be 4xx or 5xx";
    co_await ex.respond_error(status::bad_request, message);
    co_return;
  }
  // Answer first: a refuse fault closes the listener this request came through.
  json::object reply;
  reply["mode"] = r.string("mode").value_or("");
  co_await ex.respond_json(status::ok, reply);
  node.set_fault(f);
  if (f.mode == Fault::Mode::refuse && for_ms && *for_ms > 0)
    http::asio::co_spawn(node.executor(), restore_after(node, std::chrono::milliseconds(*for_ms)),
                         hydra::logged("the fault's restore timer"));
}

json::object stats_body(Node& node) {
  const Stats& s = node.stats();
  json::object by_path, by_model;
  for (const auto& [k, v] : s.by_path) by_path[k] = v;
  for (const auto& [k, v] : s.by_model) by_model[k] = v;
  json::object out{{"name", node.config().name},
                   {"requests_by_path", std::move(by_path)},
                   {"requests_by_model", std::move(by_model)},
                   {"generations", s.generations},
                   {"completed", s.completed},
                   {"cancelled", s.cancelled},
                   {"rejected", s.rejected},
                   {"faults", s.faults},
                   {"chunks", s.chunks},
                   {"prompt_tokens_evaluated", s.prompt_tokens_evaluated},
                   {"prompt_tokens_reused", s.prompt_tokens_reused},
                   {"active", node.slots().active()},
                   {"waiting", node.slots().waiting()},
                   {"max_concurrent", node.slots().max_active()},
                   {"max_in_progress", node.slots().max_demand()},
                   {"loads", node.residency().loads()},
                   {"evictions", node.residency().evictions()}};
  return out;
}

http::awaitable<void> stats(Node& node, http::Exchange& ex) {
  co_await ex.respond_json(status::ok, stats_body(node));
}

}  // namespace

void add_control_routes(http::Router& router, Node& node) {
  router.add(verb::post, "/_sim/fault", [&node](http::Exchange& ex) { return set_fault(node, ex); });
  router.add(verb::get, "/_sim/stats", [&node](http::Exchange& ex) { return stats(node, ex); });
}

}  // namespace hydra::sim
