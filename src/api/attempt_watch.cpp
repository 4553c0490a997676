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

// Most attempts end within milliseconds; their watches are never armed. The requester is
// watched from this long into an attempt on (a requester that leaves sooner is seen when the
// reply is written, as it would be anyway).
constexpr std::chrono::milliseconds watch_after{20};
// A thread's sweeper looks at its young attempts (to arm them) every tick, and at the armed
// ones every few ticks: the deadline, the end of the shutdown grace and, until the reply
// begins, the node's ejection. Looked at, not waited for: thousands of long streams waiting on
// one shared timer each (the shutdown's, a node's) made every cancellation a walk over all of
// them (Asio cancels one wait of a timer by searching its queue).
constexpr std::chrono::milliseconds tick_every{10};
constexpr int armed_every = 5;  // ticks: 50 ms

// An attempt under a sweeper's eye, linked in one of its lists (AttemptWatch::State).
struct Watched {
  Watched(Gateway& g, Clock::time_point deadline) : gw(g), started(Clock::now()), deadline_at(deadline) {}
  virtual ~Watched() = default;
  virtual void arm() = 0;
  // What may have happened meanwhile; `fleet`: the cluster as published now (the node's health).
  virtual void look(Clock::time_point now, const cluster::Snapshot* fleet) = 0;
  virtual void fire(Cut why) = 0;
  virtual std::shared_ptr<void> keep() = 0;  // alive while it is looked at

  Gateway& gw;
  Clock::time_point started;
  Clock::time_point deadline_at;
  bool watch_down = true;  // until the node's reply begins
  Watched* prev = nullptr;
  Watched* next = nullptr;
  int list = -1;  // Sweeper::Which, or -1: in none
};

class Sweeper;

struct List {
  Watched* head = nullptr;
  std::size_t size = 0;
  void push(Watched& w) {
    w.prev = nullptr;
    w.next = head;
    if (head) head->prev = &w;
    head = &w;
    ++size;
  }
  void unlink(Watched& w) {
    if (w.prev) w.prev->next = w.next;
    else head = w.next;
    if (w.next) w.next->prev = w.prev;
    w.prev = w.next = nullptr;
    --size;
  }
};

}  // namespace

// Shared by the attempt and the handlers, which may run after the attempt has returned (a
// cancelled wait completes later): they touch nothing else, and nothing outside the state once
// `over` is set (the sink may be gone then). All on the attempt's thread.
struct AttemptWatch::State : Watched, std::enable_shared_from_this<AttemptWatch::State> {
  State(asio::any_io_executor ex, Gateway& g, ReplySink& s, std::size_t node, Clock::time_point at)
      : Watched(g, at), sink(&s), node_index(node), executor(std::move(ex)) {}
  ~State() override;

  ReplySink* sink;
  std::size_t node_index;
  asio::any_io_executor executor;
  std::shared_ptr<Sweeper> sweeper;  // looks at it until it is over
  Cut cut = Cut::none;
  http::tcp::socket* socket = nullptr;
  bool over = false;        // finish() ran: what completes from now on was cancelled
  bool armed = false;       // the watch on the requester runs
  bool gone_running = false;
  std::optional<asio::steady_timer> gone_ended;  // cancelled when the watch on the requester has ended
  asio::cancellation_signal gone;

  std::shared_ptr<void> keep() override { return shared_from_this(); }
  void fire(Cut why) override {
    if (over || cut != Cut::none) return;
    cut = why;
    close();
  }
  void close() {
    if (!socket) return;
    error_code ec;
    socket->close(ec);  // the read under way ends at once
  }
  void arm() override;
  // Ends every watch but the one on the requester (finish() waits for that one to let go).
  void stop_watching();
  void look(Clock::time_point now, const cluster::Snapshot* fleet) override {
    if (over || cut != Cut::none) return;
    if (now >= deadline_at) return fire(Cut::total_timeout);
    if (gw.lifecycle.stopping()) return fire(Cut::stopping);
    if (watch_down && fleet && node_index < fleet->nodes.size()) {
      const cluster::NodeView& node = fleet->nodes[node_index];
      if (node.removed || node.health == cluster::Health::ejected) fire(Cut::node_down);
    }
  }
};

namespace {

// One per io_context (each runs on one thread), shared by its attempts under watch; its timer
// ticks while any is. Gone with the last of them.
class Sweeper : public std::enable_shared_from_this<Sweeper> {
public:
  enum Which { young, waiting, replied };  // not armed yet; armed, before / after the reply began

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

  void put(Watched& s, Which which) {
    if (s.list < 0) count(s.gw, +1);
    else unlink(s);
    lists_[which].push(s);
    s.list = which;
    if (which != young && s.deadline_at != Clock::time_point::max()) ++finite_;
    if (!ticking_) {
      ticking_ = true;
      tick_later();
    }
  }
  void remove(Watched& s) {
    if (s.list < 0) return;
    unlink(s);
    count(s.gw, -1);
  }

private:
  void unlink(Watched& s) {
    if (s.list != young && s.deadline_at != Clock::time_point::max()) --finite_;
    lists_[s.list].unlink(s);
    s.list = -1;
  }
  // The gateways whose attempts are under watch (one, but in tests), with how many each.
  void count(const Gateway& gw, int by) {
    for (auto it = gateways_.begin(); it != gateways_.end(); ++it)
      if (it->first == &gw) {
        it->second += by;
        if (it->second == 0) gateways_.erase(it);
        return;
      }
    gateways_.emplace_back(&gw, 1);
  }
  bool any_stopping() const {
    for (const auto& [gw, n] : gateways_)
      if (gw->lifecycle.stopping()) return true;
    return false;
  }

  void tick_later() {
    timer_.expires_after(tick_every);
    timer_.async_wait([self = shared_from_this()](error_code ec) { self->tick(ec); });
  }
  // ticking_ stays set while a tick runs: what it puts in a list starts no second wait.
  void tick(error_code ec) {
    if (ec) {
      ticking_ = false;
      return;
    }
    const auto now = Clock::now();
    // The young: armed once old enough (arm() looks at them once too).
    for (Watched* w = lists_[young].head; w;) {
      Watched& s = *w;
      w = w->next;
      if (now - s.started < watch_after) {
        if (now >= s.deadline_at) s.fire(Cut::total_timeout);
        continue;
      }
      auto alive = s.keep();
      put(s, s.watch_down ? waiting : replied);
      s.arm();
    }
    if (++ticks_ % armed_every == 0) {
      look_at(lists_[waiting], now);
      // After the reply began only the deadline and the shutdown can cut: walked only when one
      // of them may.
      if (finite_ > 0 || any_stopping()) look_at(lists_[replied], now);
    }
    if (lists_[young].size || lists_[waiting].size || lists_[replied].size) tick_later();
    else ticking_ = false;
  }
  void look_at(List& list, Clock::time_point now) {
    const Gateway* fleet_of = nullptr;
    std::shared_ptr<const cluster::Snapshot> fleet;  // one load per walk (one gateway, but tests)
    for (Watched* w = list.head; w;) {
      Watched& s = *w;
      w = w->next;  // looking changes nothing but `s` itself
      auto alive = s.keep();
      if (s.watch_down && fleet_of != &s.gw) {
        fleet_of = &s.gw;
        fleet = s.gw.cluster.snapshot();
      }
      s.look(now, s.watch_down ? fleet.get() : nullptr);
    }
  }

  asio::steady_timer timer_;
  asio::execution_context* context_;
  List lists_[3];
  std::vector<std::pair<const Gateway*, long>> gateways_;
  std::size_t finite_ = 0;  // armed attempts with a deadline
  uint64_t ticks_ = 0;
  bool ticking_ = false;
};

}  // namespace

AttemptWatch::State::~State() {
  if (sweeper) sweeper->remove(*this);
}

void AttemptWatch::State::stop_watching() {
  over = true;
  socket = nullptr;
  watch_down = false;
  if (sweeper) sweeper->remove(*this);
}

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
  // The shutdown's end and the node's ejection may have come already.
  look(Clock::now(), watch_down ? gw.cluster.snapshot().get() : nullptr);
}

AttemptWatch::AttemptWatch(Gateway& gw, ReplySink& sink, std::size_t node_index, Clock::time_point deadline,
                           asio::any_io_executor executor)
    : state_(std::make_shared<State>(std::move(executor), gw, sink, node_index, deadline)) {
  if (gw.lifecycle.stopping()) state_->fire(Cut::stopping);
  state_->sweeper = Sweeper::of(state_->executor);
  state_->sweeper->put(*state_, Sweeper::young);
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
  if (state_->list == Sweeper::waiting) state_->sweeper->put(*state_, Sweeper::replied);
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
