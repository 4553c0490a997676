#include "memory/flight.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hydra::memory {

namespace asio = http::asio;

void Flight::wake(std::vector<std::shared_ptr<asio::steady_timer>>& timers) {
  // Each waiter's timer is touched only on its own executor: the cancel is posted there.
  for (auto& timer : timers) asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  timers.clear();
}

void Flight::begin(FlightHead head) {
  std::lock_guard lock(mutex_);
  head_ = std::move(head);
  wake(waiters_);
}

void Flight::data(std::string_view bytes) {
  if (bytes.empty()) return;
  std::lock_guard lock(mutex_);
  pieces_.emplace_back(bytes);
  wake(waiters_);
}

void Flight::finish(bool complete) {
  std::lock_guard lock(mutex_);
  ended_ = true;
  complete_ = complete && head_.has_value();
  wake(waiters_);
}

http::awaitable<Flight::Read> Flight::next(std::size_t from, bool head_seen) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    std::shared_ptr<asio::steady_timer> timer;
    {
      std::lock_guard lock(mutex_);
      const bool news = (head_ && !head_seen) || pieces_.size() > from || ended_;
      if (news) {
        Read r;
        r.head = head_;
        if (pieces_.size() > from) r.pieces.assign(pieces_.begin() + static_cast<std::ptrdiff_t>(from), pieces_.end());
        r.ended = ended_;
        r.complete = complete_;
        co_return r;
      }
      timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
      waiters_.push_back(timer);
    }
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return Read{};
  }
}

std::optional<Entry> Flight::record() const {
  std::lock_guard lock(mutex_);
  if (!complete_ || !head_) return std::nullopt;
  Entry e;
  e.node = head_->node_id;
  e.streamed = head_->streamed;
  e.pieces = pieces_;
  return e;
}

void Flight::join() {
  std::lock_guard lock(mutex_);
  ++followers_;
}
void Flight::leave() {
  std::lock_guard lock(mutex_);
  if (followers_ > 0) --followers_;
  if (followers_ == 0) wake(leave_waiters_);
}

http::awaitable<void> Flight::unfollowed() {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    std::shared_ptr<asio::steady_timer> timer;
    {
      std::lock_guard lock(mutex_);
      if (followers_ == 0) co_return;
      timer = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
      leave_waiters_.push_back(timer);
    }
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return;
  }
}
std::size_t Flight::followers() const {
  std::lock_guard lock(mutex_);
  return followers_;
}

std::shared_ptr<Flight> Flights::lead_or_join(const std::string& key, bool& leader) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = flights_.try_emplace(key);
  if (fresh) it->second = std::make_shared<Flight>();
  else it->second->join();
  leader = fresh;
  return it->second;
}

void Flights::land(const std::string& key, const std::shared_ptr<Flight>& flight) {
  std::lock_guard lock(mutex_);
  if (auto it = flights_.find(key); it != flights_.end() && it->second == flight) flights_.erase(it);
}

std::size_t Flights::in_air() const {
  std::lock_guard lock(mutex_);
  return flights_.size();
}

}  // namespace hydra::memory
