#include "api/attempt_watch.hpp"

#include "cluster/cluster.hpp"
#include "common/spawn.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>
#include <vector>

namespace hydra::api {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// Most attempts end within milliseconds; their watches are never armed. The requester, the
// shutdown grace and the node's ejection are watched from this long into an attempt on (a
// requester that leaves sooner is seen when the reply is written, as it would be anyway).
constexpr std::chrono::milliseconds watch_after{20};
// How often a thread's sweeper looks at its attempts: when to arm them, whether their deadline
// passed. A timer per attempt (armed, then cancelled: a search of the timer queue, a
// completion, often a timerfd update) cost more than the rest of the watch.
constexpr std::chrono::milliseconds sweep_every{10};

// An attempt under a sweeper's eye: linked in its list until it needs no more looking at.
struct Watched {
  Watched* prev = nullptr;
  Watched* next = nullptr;
  bool listed = false;
  virtual ~Watched() = default;
  // Looks at the attempt at `now`; false when it needs no more looking at.
  virtual bool look(Clock::time_point now) = 0;
  virtual std::shared_ptr<void> keep() = 0;  // alive while it is looked at
};

// One per io_context (each runs on one thread), shared by its attempts under watch; a timer
// ticks every sweep_every while any is. Gone with the last of them.
class Sweeper : public std::enable_shared_from_this<Sweeper> {
public:
  explicit Sweeper(const asio::any_io_executor& ex) : timer_(ex), context_(&asio::query(ex, asio::execution::context)) {}

  // This thread's sweeper for `ex`'s io_context (made when there is none).
  static std::shared_ptr<Sweeper> of(const asio::any_io_executor& ex) {
    thread_local std::vector<std::weak_ptr<Sweeper>> mine;  // a thread may run more than one context (tests)
    asio::execution_context* context = &asio::query(ex, asio::execution::context);
    for (auto it = mine.begin(); it != mine.end();) {
      auto s = it->lock();
      if (!s) {
        it = mine.erase(it);
        continue;
      }
      if (s->context_ == context) return s;
      ++it;
    }
    auto made = std::make_shared<Sweeper>(ex);
    mine.push_back(made);
    return made;
  }

  void add(Watched& w) {
    if (w.listed) return;
    w.listed = true;
    w.prev = nullptr;
    w.next = head_;
    if (head_) head_->prev = &w;
    head_ = &w;
    if (!ticking_) tick_later();
  }
  void remove(Watched& w) {
    if (!w.listed) return;
    w.listed = false;
    if (w.prev) w.prev->next = w.next;
    else head_ = w.next;
    if (w.next) w.next->prev = w.prev;
    w.prev = w.next = nullptr;
  }

private:
  void tick_later() {
    ticking_ = true;
    timer_.expires_after(sweep_every);
    timer_.async_wait([self = shared_from_this()](error_code ec) { self->tick(ec); });
  }
  void tick(error_code ec) {
    ticking_ = false;
    if (ec) return;
    const auto now = Clock::now();
    for (Watched* w = head_; w;) {
      Watched* next = w->next;  // looking changes nothing but `w`'s own place
      auto alive = w->keep();
      if (!w->look(now)) remove(*w);
      w = next;
    }
    if (head_) tick_later();
  }

  asio::steady_timer timer_;
  asio::execution_context* context_;
  Watched* head_ = nullptr;
  bool ticking_ = false;
};

}  // namespace

// Shared by the attempt and the handlers, which may run after the attempt has returned (a
// cancelled wait completes later): they touch nothing else, and nothing outside the state once
// `over` is set (the sink may be gone then). All on the attempt's thread.
struct AttemptWatch::State : Watched, std::enable_shared_from_this<AttemptWatch::State> {
  State(asio::any_io_executor ex, Gateway& g, ReplySink& s, std::size_t node, Clock::time_point at)
      : gw(g), sink(&s), node_index(node), deadline_at(at), started(Clock::now()), executor(std::move(ex)) {}
  ~State() override {
    if (sweeper) sweeper->remove(*this);
  }

  Gateway& gw;
  ReplySink* sink;
  std::size_t node_index;
  Clock::time_point deadline_at;
  Clock::time_point started;
  asio::any_io_executor executor;
  std::shared_ptr<Sweeper> sweeper;  // looks at it until it is armed and has no deadline, or is over
  Cut cut = Cut::none;
  http::tcp::socket* socket = nullptr;
  bool over = false;        // finish() ran: what completes from now on was cancelled
  bool watch_down = true;   // until the node's reply begins
  bool armed = false;       // the watches on the requester, the shutdown and the node run
  bool gone_running = false;
  std::optional<asio::steady_timer> gone_ended;  // cancelled when the watch on the requester has ended
  asio::cancellation_signal gone, stop, down;

  std::shared_ptr<void> keep() override { return shared_from_this(); }
  bool look(Clock::time_point now) override {
    if (over || cut != Cut::none) return false;
    if (now >= deadline_at) {
      fire(Cut::total_timeout);
      return false;
    }
    if (!armed && now - started >= watch_after) arm();
    return !armed || deadline_at != Clock::time_point::max();
  }
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
  void arm();
  // Ends every wait but the one on the requester (finish() waits for that one to let go).
  void stop_watching() {
    over = true;
    socket = nullptr;
    if (sweeper) sweeper->remove(*this);
    stop.emit(asio::cancellation_type::terminal);
    watch_down = false;
    down.emit(asio::cancellation_type::terminal);
  }
};

void AttemptWatch::State::arm() {
  armed = true;
  auto st = shared_from_this();
  gone_running = true;
  gone_ended.emplace(executor, asio::steady_timer::time_point::max());
  asio::co_spawn(executor, sink->gone(), asio::bind_cancellation_slot(gone.slot(), [st](std::exception_ptr e) {
                   log_exception(e, "an attempt's watch on its requester");
                   st->gone_running = false;
                   if (st->over) st->gone_ended->cancel();
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

AttemptWatch::AttemptWatch(Gateway& gw, ReplySink& sink, std::size_t node_index, Clock::time_point deadline,
                           asio::any_io_executor executor)
    : state_(std::make_shared<State>(std::move(executor), gw, sink, node_index, deadline)) {
  if (gw.lifecycle.stopping()) state_->fire(Cut::stopping);
  state_->sweeper = Sweeper::of(state_->executor);
  state_->sweeper->add(*state_);
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
  if (st->gone_running) co_await st->gone_ended->async_wait(http::use_nothrow);
}

}  // namespace hydra::api
