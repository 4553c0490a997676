#include "orchestrate/call.hpp"

#include "orchestrate/complexity.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <memory>

namespace hydra::orchestrate {

namespace asio = boost::asio;

namespace {

// Plain functions: g++ 12 miscompiles capturing lambdas written inside coroutine bodies.
std::function<void(std::string_view)> tracking(std::function<void(std::string_view)> inner,
                                               std::shared_ptr<bool> streamed) {
  if (!inner) return {};
  return [inner = std::move(inner), streamed = std::move(streamed)](std::string_view piece) {
    *streamed = true;
    inner(piece);
  };
}

CallRequest retry_request(CallRequest request, const CallResult& failed) {
  if (!failed.node_id.empty()) request.avoid_nodes.push_back(failed.node_id);
  return request;
}

std::string retry_error(const CallResult& first, const CallResult& second) {
  std::string where = first.node_id.empty() ? std::string() : fmt::format(" on {}", first.node_id);
  return fmt::format("{}{}; retry: {}", first.error.empty() ? "call failed" : first.error, where,
                     second.error.empty() ? "call failed" : second.error);
}

CallRequest model_request(const std::string& model, const std::string& prompt, int priority,
                          const std::shared_ptr<Cancel>& cancel, const std::string& request_id) {
  CallRequest r;
  r.model = model;
  r.prompt = prompt;
  r.priority = priority;
  r.cancel = cancel;
  r.request_id = request_id;
  return r;
}

}  // namespace

ModelResult model_result(const std::string& model, CallResult r) {
  ModelResult out;
  out.model = model;
  out.node_id = std::move(r.node_id);
  out.ok = r.ok;
  if (r.ok) out.output = strip_thinking(r.text);
  else out.error = r.error.empty() ? "call failed" : std::move(r.error);
  return out;
}

namespace {

ModelResult crashed(const std::string& model) {
  ModelResult out;
  out.model = model;
  out.error = "internal error while calling the model";
  return out;
}

}  // namespace

asio::awaitable<CallResult> call_with_retry(ModelCaller& caller, CallRequest request) {
  auto streamed = std::make_shared<bool>(false);
  request.on_piece = tracking(std::move(request.on_piece), streamed);
  CallRequest first = request;
  CallResult r = co_await caller.call(std::move(first));
  if (r.ok || *streamed || (request.cancel && request.cancel->cancelled())) co_return r;
  CallRequest second = retry_request(std::move(request), r);
  CallResult r2 = co_await caller.call(std::move(second));
  if (!r2.ok) r2.error = retry_error(r, r2);
  co_return r2;
}

asio::awaitable<std::vector<ModelResult>> call_models(ModelCaller& caller, std::vector<std::string> models,
                                                      std::string prompt, int priority,
                                                      std::shared_ptr<Cancel> cancel, std::string request_id) {
  std::vector<ModelResult> out;
  if (models.empty()) co_return out;
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, call_with_retry(caller, std::declval<CallRequest>()), asio::deferred));
  std::vector<Op> ops;
  for (const auto& model : models) {
    CallRequest request = model_request(model, prompt, priority, cancel, request_id);
    ops.push_back(asio::co_spawn(ex, call_with_retry(caller, std::move(request)), asio::deferred));
  }
  auto [order, errors, results] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                       .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (errors[i]) out.push_back(crashed(models[i]));
    else out.push_back(model_result(models[i], std::move(results[i])));
  }
  co_return out;
}

}  // namespace hydra::orchestrate
