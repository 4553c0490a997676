#include "api/attempt_watch.hpp"

#include "cluster/cluster.hpp"
#include "common/spawn.hpp"
#include "http/per_context.hpp"

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
// A thread's sweeper ticks every tick_every while any attempt is watched. Each tick it arms the
// young attempts and cuts the silent ones (its lists are in the order their silence limits come
// due, so it looks only at those that are due). Every few ticks it looks at every armed
// attempt, but only when something may cut one: a fleet published with a node newly ejected or
// removed, the earliest deadline come (timeouts.total_s: every attempt has one, but it seldom
// comes), or the gateway's shutdown grace over. Looked at, not waited
// for: thousands of long streams waiting on one shared timer each (the shutdown's, a node's)
// made every cancellation a walk over all of them (Asio cancels one wait of a timer by
// searching its queue), and a timer per read cost a timer-queue update and a completion.
constexpr std::chrono::milliseconds tick_every{10};
constexpr int armed_every = 5;  // ticks: 50 ms

class Sweeper;

// An attempt under a sweeper's eye (AttemptWatch::State), linked in one of its lists.
struct Watched {
  Watched(Gateway& g, Clock::time_point deadline) : gw(g), started(Clock::now()), deadline_at(deadline) {}
  virtual ~Watched() = default;
  virtual void arm() = 0;
  // What may have happened meanwhile; `fleet`: the cluster as published now (the node's health).
  virtual void look(Clock::time_point now, const cluster::Snapshot* fleet) = 0;
  virtual void fire(Cut why) = 0;
  virtual bool ended() const = 0;  // cut, or finished

  Gateway& gw;
  Clock::time_point started;
  Clock::time_point deadline_at;
  Clock::time_point silence_at = Clock::time_point::max();  // the node must send something by then
  Cut silence_cut = Cut::none;  // first_byte_timeout or idle_timeout
  bool watch_down = true;  // until the node's reply begins
  Watched* prev = nullptr;
  Watched* next = nullptr;
  int list = -1;  // Sweeper::Which, or -1: in none
};

// Newest at the head, the oldest at the tail.
struct List {
  Watched* head = nullptr;
  Watched* tail = nullptr;
  std::size_t size = 0;
  void push(Watched& w) {
    w.prev = nullptr;
    w.next = head;
    if (head) head->prev = &w;
    else tail = &w;
    head = &w;
    ++size;
  }
  void unlink(Watched& w) {
    if (w.prev) w.prev->next = w.next;
    else head = w.next;
    if (w.next) w.next->prev = w.prev;
    else tail = w.prev;
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
  bool gone_running = false;
  std::optional<asio::steady_timer> gone_ended;  // cancelled when the watch on the requester has ended
  asio::cancellation_signal gone;

  bool ended() const override { return over || cut != Cut::none; }
  void fire(Cut why) override {
    if (ended()) return;
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
    if (ended()) return;
    if (now >= deadline_at) return fire(Cut::total_timeout);
    if (now >= silence_at) return fire(silence_cut);
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
  // Not armed yet; armed, before the reply began (in the order of their first-byte limits);
  // armed, after (in the order of their last piece: a piece moves its attempt to the head).
  enum Which { young, waiting, replied };

  explicit Sweeper(const asio::any_io_executor& ex) : timer_(ex) {}

  // This thread's sweeper for `ex`'s io_context (made when there is none).
  static std::shared_ptr<Sweeper> of(const asio::any_io_executor& ex) { return http::per_context<Sweeper>(ex); }

  // Into `which`, at its head. The silence limits of one gateway are the same for every
  // attempt, so the lists stay in the order they come due.
  void put(Watched& s, Which which) {
    if (s.list < 0) count(s.gw, +1);
    else unlink(s);
    lists_[which].push(s);
    s.list = which;
    if (which != young && s.deadline_at != Clock::time_point::max()) {
      ++finite_;
      earliest_deadline_ = std::min(earliest_deadline_, s.deadline_at);
    }
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
  // A piece came: to the head of its list (the young stay where they are).
  void touched(Watched& s) {
    if (s.list == waiting || s.list == replied) put(s, static_cast<Which>(s.list));
  }

private:
  struct Gateways {
    const Gateway* gw;
    long attempts;
    std::shared_ptr<const cluster::Snapshot> seen;  // the fleet at the last full look
  };

  void unlink(Watched& s) {
    if (s.list != young && s.deadline_at != Clock::time_point::max()) --finite_;
    lists_[s.list].unlink(s);
    s.list = -1;
  }
  // The gateways whose attempts are under watch (one, but in tests), with how many each.
  void count(const Gateway& gw, long by) {
    for (auto it = gateways_.begin(); it != gateways_.end(); ++it)
      if (it->gw == &gw) {
        it->attempts += by;
        if (it->attempts == 0) gateways_.erase(it);
        return;
      }
    gateways_.push_back({&gw, 1, gw.cluster.snapshot()});
  }
  // What else than silence and deadlines may cut an armed attempt: the end of a gateway's
  // shutdown grace, or a node ejected or removed in a fleet published since the last look.
  void read_gateways(bool& stopping, bool& node_down) {
    for (auto& g : gateways_) {
      if (g.gw->lifecycle.stopping()) stopping = true;
      auto now = g.gw->cluster.snapshot();
      if (now == g.seen) continue;
      if (now && any_newly_down(g.seen.get(), *now)) node_down = true;
      g.seen = std::move(now);
    }
  }
  static bool any_newly_down(const cluster::Snapshot* before, const cluster::Snapshot& now) {
    auto down = [](const cluster::NodeView& n) { return n.removed || n.health == cluster::Health::ejected; };
    for (std::size_t i = 0; i < now.nodes.size(); ++i)
      if (down(now.nodes[i]) && !(before && i < before->nodes.size() && down(before->nodes[i]))) return true;
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
    // The young: armed once old enough (arm() looks at them too).
    for (Watched* w = lists_[young].head; w;) {
      Watched& s = *w;
      w = w->next;
      if (now - s.started < watch_after) {
        s.look(now, nullptr);
        continue;
      }
      put(s, s.watch_down ? waiting : replied);
      s.arm();
    }
    // The silent: from the tail, while due (one connecting, or not reading, has no limit: passed over).
    for (Which which : {waiting, replied})
      for (Watched* s = lists_[which].tail; s;) {
        Watched* older_than_next = s->prev;
        if (s->ended() || now >= s->silence_at) {
          s->fire(s->silence_cut);  // a no-op for one that ended otherwise
          remove(*s);
        } else if (s->silence_at != Clock::time_point::max()) {
          break;
        }
        s = older_than_next;
      }
    if (++ticks_ % armed_every == 0) {
      bool stopping = false, node_down = false;
      read_gateways(stopping, node_down);
      // Deadlines: only once the earliest may have come (then the next earliest is found).
      const bool deadline_due = finite_ > 0 && now >= earliest_deadline_;
      if (deadline_due) earliest_deadline_ = Clock::time_point::max();
      if (deadline_due || stopping || node_down) look_at(lists_[waiting], now, deadline_due);
      if (deadline_due || stopping) look_at(lists_[replied], now, deadline_due);  // ejection no longer matters there
    }
    if (lists_[young].size || lists_[waiting].size || lists_[replied].size) tick_later();
    else ticking_ = false;
  }
  // `deadlines`: the earliest deadline of those left is found again.
  void look_at(List& list, Clock::time_point now, bool deadlines) {
    const Gateway* fleet_of = nullptr;
    const cluster::Snapshot* fleet = nullptr;
    for (Watched* w = list.head; w;) {
      Watched& s = *w;
      w = w->next;  // looking changes nothing but `s` itself, and ends nothing at once
      if (s.watch_down && fleet_of != &s.gw) {
        fleet_of = &s.gw;
        fleet = nullptr;
        for (const auto& g : gateways_)
          if (g.gw == &s.gw) fleet = g.seen.get();
      }
      s.look(now, s.watch_down ? fleet : nullptr);
      if (deadlines && !s.ended()) earliest_deadline_ = std::min(earliest_deadline_, s.deadline_at);
    }
  }

  asio::steady_timer timer_;
  List lists_[3];
  std::vector<Gateways> gateways_;
  std::size_t finite_ = 0;  // armed attempts with a deadline
  Clock::time_point earliest_deadline_ = Clock::time_point::max();  // none of them is due before
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

void AttemptWatch::expect_reply(std::chrono::milliseconds within) {
  State& s = *state_;
  s.silence_at = Clock::now() + within;
  s.silence_cut = Cut::first_byte_timeout;
  s.sweeper->touched(s);  // (set from the start, as in reading())
}

void AttemptWatch::replied() {
  not_reading();
  State& s = *state_;
  if (!s.watch_down) return;
  s.watch_down = false;
  if (s.list == Sweeper::waiting) s.sweeper->put(s, Sweeper::replied);
}

void AttemptWatch::reading(std::chrono::milliseconds idle) {
  State& s = *state_;
  s.silence_at = Clock::now() + idle;
  s.silence_cut = Cut::idle_timeout;
  s.sweeper->touched(s);
}

void AttemptWatch::not_reading() {
  // No limit: passed over where it stands by the sweeper's walk from its list's tail; the next
  // reading() moves it to the head.
  state_->silence_at = Clock::time_point::max();
  state_->silence_cut = Cut::none;
}

bool AttemptWatch::stop() {
  State& st = *state_;
  if (st.over) return true;
  st.stop_watching();
  return !st.gone_running;
}

http::awaitable<void> AttemptWatch::let_go() {
  auto st = state_;
  st->gone.emit(asio::cancellation_type::terminal);
  if (st->gone_running) co_await st->gone_ended->async_wait(http::use_nothrow);
}

}  // namespace hydra::api
