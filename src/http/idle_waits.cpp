#include "http/idle_waits.hpp"

#include "http/per_context.hpp"

#include <algorithm>

namespace hydra::http {

using Clock = std::chrono::steady_clock;

std::shared_ptr<IdleWaits> IdleWaits::of(const asio::any_io_executor& ex) { return per_context<IdleWaits>(ex); }

void IdleWait::begin(IdleWaits& waits, std::chrono::milliseconds limit) {
  end();
  waits.add(*this, limit);
}

void IdleWait::end() {
  if (waits_) waits_->remove(*this);
}

void IdleWaits::add(IdleWait& w, std::chrono::milliseconds limit) {
  auto it = std::find_if(lists_.begin(), lists_.end(), [&](const List& l) { return l.limit == limit; });
  if (it == lists_.end()) it = lists_.insert(lists_.end(), List{limit});
  List& list = *it;
  w.waits_ = this;
  w.list_ = static_cast<std::size_t>(it - lists_.begin());
  w.due_ = Clock::now() + limit;
  w.prev_ = nullptr;
  w.next_ = list.head;
  if (list.head) list.head->prev_ = &w;
  else list.tail = &w;
  list.head = &w;
  ++waiting_;
  if (!ticking_) {
    ticking_ = true;
    tick_later();
  }
}

void IdleWaits::remove(IdleWait& w) {
  List& list = lists_[w.list_];
  if (w.prev_) w.prev_->next_ = w.next_;
  else list.head = w.next_;
  if (w.next_) w.next_->prev_ = w.prev_;
  else list.tail = w.prev_;
  w.prev_ = w.next_ = nullptr;
  w.waits_ = nullptr;
  --waiting_;
}

void IdleWaits::tick_later() {
  auto every = std::chrono::milliseconds(1000);
  for (const List& l : lists_) every = std::min(every, std::max(std::chrono::milliseconds(10), l.limit / 4));
  timer_.expires_after(every);
  timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec) self->ticking_ = false;
    else self->tick();
  });
}

// The waits past their limit, oldest first in each list, have their reads cancelled: the
// session sees the read end.
void IdleWaits::tick() {
  const auto now = Clock::now();
  for (List& list : lists_)
    while (list.tail && list.tail->due_ <= now) {
      IdleWait& w = *list.tail;
      remove(w);
      error_code ignored;
      w.socket_->cancel(ignored);
    }
  if (waiting_ > 0) tick_later();
  else ticking_ = false;
}

}  // namespace hydra::http
