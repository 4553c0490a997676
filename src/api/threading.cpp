#include "api/threading.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hydra::api {

bool on_data_path(http::bhttp::verb method, std::string_view path) {
  static constexpr std::array<std::string_view, 10> model_routes = {
      "/api/generate",  "/api/chat",           "/api/embed",     "/api/embeddings", "/v1/chat/completions",
      "/v1/completions", "/v1/embeddings",     "/v1/responses",  "/generate",       "/generate/stream"};
  return method == http::bhttp::verb::post &&
         std::find(model_routes.begin(), model_routes.end(), path) != model_routes.end();
}

http::Handler threaded(Gateway& gw, http::Handler inner) {
  return [&gw, inner = std::move(inner)](http::Exchange& ex) -> http::awaitable<void> {
    if (http::on_control_thread() || on_data_path(ex.request().method(), ex.path())) return inner(ex);
    // The session waits on its worker while the handler runs on the control thread; the
    // connection is used by one thread at a time.
    return boost::asio::co_spawn(gw.control, inner(ex), boost::asio::use_awaitable);
  };
}

namespace {
// A worker's tally to the control thread (with the rest of this turn's hand-overs, in order):
// the log entries alone, or (`everything`) the counters too.
void hand_over(const Gateway& gw, telemetry::Tally& tally, bool everything) {
  // Nothing answered on this worker since the last hand-over (every reply is counted in
  // `requests`): no new tally (some 100 KB) for the views and the traffic window's tick.
  if (everything && tally.requests.total() == 0) everything = false;
  if (!everything) {
    if (tally.logs.routing.empty() && tally.logs.records.empty()) return;
    auto logs = std::make_shared<telemetry::Tally::Logs>(std::exchange(tally.logs, {}));
    post_control(gw, [&t = gw.telemetry, logs = std::move(logs)] { t.fold(*logs); });
    return;
  }
  auto part = std::make_shared<telemetry::Tally>();
  std::swap(*part, tally);
  post_control(gw, [&t = gw.telemetry, part = std::move(part)] { t.fold(*part); });
}
}  // namespace

void recorded(const Gateway& gw) {
  telemetry::Tally* tally = gw.recorder().tally();
  if (tally && tally->logs_due()) hand_over(gw, *tally, false);
}

http::awaitable<void> settle_workers(const Gateway& gw) {
  co_await http::settle_threads(gw.workers, std::chrono::seconds(1), [&gw] {
    if (telemetry::Tally* tally = gw.recorder().tally()) hand_over(gw, *tally, true);
  });
}

}  // namespace hydra::api
