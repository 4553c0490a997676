#include "api/model_caller.hpp"

#include "api/collect_sink.hpp"
#include "api/dispatch.hpp"

#include <boost/json/serialize.hpp>
#include <set>

namespace hydra::api {

namespace json = boost::json;

namespace {

std::string generate_body(const orchestrate::CallRequest& r) {
  json::object body;
  body["model"] = r.model;
  body["prompt"] = r.prompt;
  if (!r.system.empty()) body["system"] = r.system;
  body["stream"] = true;  // pieces as they come: the synthesis streams to the client
  return json::serialize(body);
}

}  // namespace

std::vector<std::string> available_models(const cluster::Snapshot& snapshot) {
  std::set<std::string> names;
  for (const auto& n : snapshot.nodes)
    if (n.routable())
      for (const auto& m : n.models) names.insert(m.name);
  return {names.begin(), names.end()};
}

std::vector<std::string> GatewayCaller::available_models() const { return api::available_models(*gw_.cluster.snapshot()); }

boost::asio::awaitable<orchestrate::CallResult> GatewayCaller::call(orchestrate::CallRequest request) {
  const auto started = std::chrono::steady_clock::now();
  if (request.cancel && request.cancel->cancelled()) {
    orchestrate::CallResult cancelled;
    cancelled.model = request.model;
    cancelled.error = "cancelled: the client left";
    co_return cancelled;
  }
  DispatchRequest d;
  d.endpoint = "orchestrate";
  d.request_id = std::move(request.request_id);
  d.route.model = request.model;
  d.route.priority = request.priority;
  d.route.avoid_nodes = request.avoid_nodes;
  d.upstream.method = http::bhttp::verb::post;
  d.upstream.target = "/api/generate";
  d.upstream.headers.set(http::bhttp::field::content_type, "application/json");
  d.upstream.body = generate_body(request);
  // The run's cancellation is the sink's "gone": admission and the relay give the call up.
  CollectSink sink(request.on_piece, gw_.settings.limits, request.cancel);
  Dispatched done = co_await dispatch(gw_, sink, d);

  orchestrate::CallResult out;
  out.model = request.model;
  out.text = sink.text();
  out.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (const auto& served = sink.served()) {
    out.node_id = served->node_id;
    out.node_url = served->node_url;
    out.reason = served->reason;
  }
  out.ok = done.served.has_value() && sink.complete() && sink.error_status() == 0;
  if (!out.ok) out.error = sink.error().empty() ? "no node served the call" : sink.error();
  co_return out;
}

}  // namespace hydra::api
