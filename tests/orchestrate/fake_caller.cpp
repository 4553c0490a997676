#include "fake_caller.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hydra::orchestrate::testing {

namespace asio = boost::asio;

namespace {

std::string pick_node(const std::vector<std::string>& avoid) {
  for (int i = 1; i < 100; ++i) {
    std::string node = "n" + std::to_string(i);
    if (std::find(avoid.begin(), avoid.end(), node) == avoid.end()) return node;
  }
  return "n100";
}

const Rule* find_rule(const std::vector<Rule>& rules, const CallRequest& r) {
  for (const auto& rule : rules)
    if (r.prompt.find(rule.prompt) != std::string::npos && r.model.find(rule.model) != std::string::npos)
      return &rule;
  return nullptr;
}

std::string fill(std::string text, const std::string& model) {
  for (auto pos = text.find("{model}"); pos != std::string::npos; pos = text.find("{model}", pos + model.size()))
    text.replace(pos, 7, model);
  return text;
}

CallLog log_of(const CallRequest& r, std::string node, int seq) {
  CallLog log;
  log.model = r.model;
  log.prompt = r.prompt;
  log.avoid_nodes = r.avoid_nodes;
  log.node = std::move(node);
  log.streamed = static_cast<bool>(r.on_piece);
  log.start_seq = seq;
  return log;
}

}  // namespace

Rule rule(std::string prompt_text, std::string reply) {
  Rule r;
  r.prompt = std::move(prompt_text);
  r.reply = std::move(reply);
  return r;
}

asio::awaitable<CallResult> FakeCaller::call(CallRequest request) {
  std::string node = pick_node(request.avoid_nodes);
  std::size_t index = calls.size();
  calls.push_back(log_of(request, node, seq_++));
  max_in_flight = std::max(max_in_flight, ++in_flight);
  const Rule* rule = find_rule(rules, request);
  std::chrono::milliseconds delay(5);
  if (rule) delay = rule->delay;
  if (on_call) on_call(request);
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  bool cancelled = false;
  if (request.cancel) {
    using namespace asio::experimental::awaitable_operators;
    auto which = co_await (timer.async_wait(asio::as_tuple(asio::use_awaitable)) || request.cancel->wait());
    cancelled = which.index() == 1;
  } else {
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  CallResult result;
  result.model = request.model;
  result.node_id = node;
  if (cancelled) {
    result.error = "cancelled";
  } else if (!rule) {
    result.error = "no scripted reply for this prompt";
  } else if (std::find(rule->fail_on.begin(), rule->fail_on.end(), node) != rule->fail_on.end()) {
    result.error = "scripted failure on " + node;
  } else {
    result.ok = true;
    if (request.on_piece)
      for (const auto& piece : rule->pieces) request.on_piece(piece);
    result.text = fill(rule->reply, request.model);
  }
  --in_flight;
  calls[index].ok = result.ok;
  calls[index].end_seq = seq_++;
  co_return result;
}

std::vector<std::size_t> FakeCaller::calls_matching(const std::string& text) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < calls.size(); ++i)
    if (calls[i].prompt.find(text) != std::string::npos) out.push_back(i);
  return out;
}

}  // namespace hydra::orchestrate::testing
