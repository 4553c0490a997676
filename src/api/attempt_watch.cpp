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

// Most attempts end within milliseconds; their watches are never armed. The requester, the
// shutdown grace and the node's ejection are watched from this long into an attempt on (a
// requester that leaves sooner is seen when the reply is written, as it would be anyway). Arming
// them costs a coroutine and two waits on shared timers, whose cancellation is a search.
constexpr std::chrono::milliseconds watch_after{20};

// Shared by the attempt and the handlers, which may run after the attempt has returned (a
// cancelled wait completes later): they touch nothing else, and nothing outside the state once
// `over` is set (the sink may be gone then). All on the attempt's thread.
struct AttemptWatch::State : std::enable_shared_from_this<AttemptWatch::State> {
  State(asio::any_io_executor ex, Gateway& g, ReplySink& s, std::size_t node, std::chrono::steady_clock::time_point at)
      : gw(g), sink(&s), node_index(node), deadline_at(at), timer(ex), gone_ended(ex, asio::steady_timer::time_point::max()) {}

  Gateway& gw;
  ReplySink* sink;
  std::size_t node_index;
  std::chrono::steady_clock::time_point deadline_at;
  Cut cut = Cut::none;
  http::tcp::socket* socket = nullptr;
  bool over = false;        // finish() ran: what completes from now on was cancelled
  bool watch_down = true;   // until the node's reply begins
  bool armed = false;       // the watches on the requester, the shutdown and the node run
  bool gone_running = false;
  asio::steady_timer timer;       // first to arm the watches, then the request's deadline
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
  void on_timer(error_code ec) {
    if (ec || over) return;
    if (std::chrono::steady_clock::now() >= deadline_at) return fire(Cut::total_timeout);
    if (!armed) arm();
    if (deadline_at != std::chrono::steady_clock::time_point::max()) {
      timer.expires_at(deadline_at);
      timer.async_wait([self = this->shared_from_this()](error_code e) { self->on_timer(e); });
    }
  }
  void arm();
  // Ends every wait but the one on the requester (finish() waits for that one to let go).
  void stop_watching() {
    over = true;
    socket = nullptr;
    timer.cancel();
    stop.emit(asio::cancellation_type::terminal);
    watch_down = false;
    down.emit(asio::cancellation_type::terminal);
  }
};

void AttemptWatch::State::arm() {
  armed = true;
  auto st = shared_from_this();
  gone_running = true;
  asio::co_spawn(timer.get_executor(), sink->gone(), asio::bind_cancellation_slot(gone.slot(), [st](std::exception_ptr e) {
                   log_exception(e, "an attempt's watch on its requester");
                   st->gone_running = false;
                   if (st->over) st->gone_ended.cancel();
                   else st->fire(Cut::client_gone);
                 }));
  // Plain timer waits (http::Signals::listen): raised or cancelled, both complete with
  // operation_aborted; finish() sets `over` (and clears `watch_down`) before it cancels.
  if (gw.lifecycle.stopping()) fire(Cut::stopping);
  else gw.lifecycle.on_stopped(asio::bind_cancellation_slot(stop.slot(), [st](error_code) { st->fire(Cut::stopping); }));
  if (!watch_down) return;
  gw.cluster.on_down(node_index, asio::bind_cancellation_slot(down.slot(), [st](error_code) {
                       if (st->watch_down) st->fire(Cut::node_down);
                     }));
  // Ejected (or removed) before the watch began: its signal has gone by, its snapshot says so.
  const auto snapshot = gw.cluster.snapshot();
  if (node_index < snapshot->nodes.size()) {
    const cluster::NodeView& node = snapshot->nodes[node_index];
    if (node.removed || node.health == cluster::Health::ejected) fire(Cut::node_down);
  }
}

AttemptWatch::AttemptWatch(Gateway& gw, ReplySink& sink, std::size_t node_index,
                           std::chrono::steady_clock::time_point deadline, asio::any_io_executor executor)
    : state_(std::make_shared<State>(executor, gw, sink, node_index, deadline)) {
  if (gw.lifecycle.stopping()) state_->fire(Cut::stopping);
  state_->timer.expires_at(std::min(deadline, std::chrono::steady_clock::now() + watch_after));
  state_->timer.async_wait([st = state_](error_code ec) { st->on_timer(ec); });
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
