#include "api/attempt_watch.hpp"

#include "cluster/cluster.hpp"
#include "common/spawn.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

namespace hydra::api {

namespace asio = boost::asio;
using boost::system::error_code;

// Shared by the attempt and the handlers, which may run after the attempt has returned (a
// cancelled wait completes later): they touch nothing else. All on the attempt's thread.
struct AttemptWatch::State {
  explicit State(asio::any_io_executor ex) : deadline(ex), gone_ended(ex, asio::steady_timer::time_point::max()) {}

  Cut cut = Cut::none;
  http::tcp::socket* socket = nullptr;
  bool over = false;        // finish() ran: what completes from now on was cancelled
  bool watch_down = true;   // until the node's reply begins
  bool gone_running = false;
  asio::steady_timer deadline;
  asio::steady_timer gone_ended;  // cancelled when the watch on the requester has ended
  asio::cancellation_signal gone, stop, down;

  void fire(Cut why) {
    if (over || cut != Cut::none) return;
    cut = why;
    close();
  }
  void close() {
    if (!socket) return;
    error_code ec;
    socket->close(ec);  // the read under way ends at once
  }
  // Ends every wait but the one on the requester (finish() waits for that one to let go).
  void stop_watching() {
    over = true;
    socket = nullptr;
    deadline.cancel();
    stop.emit(asio::cancellation_type::terminal);
    watch_down = false;
    down.emit(asio::cancellation_type::terminal);
  }
};

AttemptWatch::AttemptWatch(Gateway& gw, ReplySink& sink, std::size_t node_index,
                           std::chrono::steady_clock::time_point deadline, asio::any_io_executor executor)
    : state_(std::make_shared<State>(executor)) {
  auto st = state_;
  if (deadline != std::chrono::steady_clock::time_point::max()) {
    st->deadline.expires_at(deadline);
    st->deadline.async_wait([st](error_code ec) {
      if (!ec) st->fire(Cut::total_timeout);
    });
  }
  st->gone_running = true;
  asio::co_spawn(executor, sink.gone(), asio::bind_cancellation_slot(st->gone.slot(), [st](std::exception_ptr e) {
                   log_exception(e, "an attempt's watch on its requester");
                   st->gone_running = false;
                   if (st->over) st->gone_ended.cancel();
                   else st->fire(Cut::client_gone);
                 }));
  // Plain timer waits (http::Signals::listen): raised or cancelled, both complete with
  // operation_aborted; finish() sets `over` (and clears `watch_down`) before it cancels.
  if (gw.lifecycle.stopping()) st->fire(Cut::stopping);
  else
    gw.lifecycle.on_stopped(asio::bind_cancellation_slot(st->stop.slot(), [st](error_code) { st->fire(Cut::stopping); }));
  gw.cluster.on_down(node_index, asio::bind_cancellation_slot(st->down.slot(), [st](error_code) {
                       if (st->watch_down) st->fire(Cut::node_down);
                     }));
}

AttemptWatch::~AttemptWatch() {
  // finish() normally ran; if not, nothing may reach the attempt's socket any more.
  state_->stop_watching();
  state_->gone.emit(asio::cancellation_type::terminal);
}

void AttemptWatch::aim(http::tcp::socket* socket) {
  state_->socket = socket;
  if (state_->cut != Cut::none) state_->close();  // cut already: the new round ends at once
}

Cut AttemptWatch::cut() const { return state_->cut; }

void AttemptWatch::replied() {
  if (!state_->watch_down) return;
  state_->watch_down = false;
  state_->down.emit(asio::cancellation_type::terminal);
}

http::awaitable<void> AttemptWatch::finish() {
  auto st = state_;
  if (st->over) co_return;
  st->stop_watching();
  if (!st->gone_running) co_return;
  st->gone.emit(asio::cancellation_type::terminal);
  if (st->gone_running) co_await st->gone_ended.async_wait(http::use_nothrow);
}

}  // namespace hydra::api
