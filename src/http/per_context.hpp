#pragma once
// One object of type T per io_context, shared by what runs on it: this thread's for the
// executor's context, made (T(executor)) when there is none. Gone with the last holder; a thread
// may run more than one context (tests do). Call it once per connection or attempt, not per read.
#include "http/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <memory>
#include <utility>
#include <vector>

namespace hydra::http {

template <typename T>
std::shared_ptr<T> per_context(const asio::any_io_executor& ex) {
  thread_local std::vector<std::pair<asio::execution_context*, std::weak_ptr<T>>> mine;
  asio::execution_context* context = &asio::query(ex, asio::execution::context);
  for (auto it = mine.begin(); it != mine.end();) {
    auto held = it->second.lock();
    if (!held) {
      it = mine.erase(it);
      continue;
    }
    if (it->first == context) return held;
    ++it;
  }
  auto made = std::make_shared<T>(ex);
  mine.emplace_back(context, made);
  return made;
}

}  // namespace hydra::http
