#include "http/threads.hpp"

namespace hydra::http {

namespace {
thread_local int current_index = 0;
}

int thread_index() { return current_index; }
void set_thread_index(int index) { current_index = index; }

Signals::Signals(std::vector<asio::any_io_executor> executors) {
  for (auto& ex : executors) {
    auto slot = std::make_unique<Slot>();
    slot->executor = std::move(ex);
    slots_.push_back(std::move(slot));
  }
}

std::shared_ptr<asio::steady_timer> Signals::timer(uint64_t key) {
  const auto index = static_cast<std::size_t>(thread_index());
  Slot& slot = *slots_[index < slots_.size() ? index : 0];
  auto& timer = slot.timers[key];
  if (!timer) {
    timer = std::make_shared<asio::steady_timer>(slot.executor);
    timer->expires_at(std::chrono::steady_clock::time_point::max());
  }
  return timer;
}

awaitable<void> Signals::wait(uint64_t key) {
  std::shared_ptr<asio::steady_timer> held = timer(key);  // kept alive across a wake
  co_await held->async_wait(use_nothrow);
}

void Signals::Slot::wake(uint64_t key) {
  auto it = timers.find(key);
  if (it == timers.end()) return;
  it->second->cancel();  // every waiter on this thread completes
  timers.erase(it);      // the next wait() waits for the next raise()
}

void Signals::raise(uint64_t key) {
  const auto here = static_cast<std::size_t>(thread_index());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot* slot = slots_[i].get();
    if (i == here || slots_.size() == 1) slot->wake(key);
    else asio::post(slot->executor, [slot, key] { slot->wake(key); });
  }
}

}  // namespace hydra::http
