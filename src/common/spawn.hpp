#pragma once
// Completion handlers for co_spawn in the gateway. asio::detached drops an exception that ends
// a background coroutine without a word (and whatever it did simply stops): these say what
// ended and why, and let the gateway go on.
#include <exception>
#include <spdlog/spdlog.h>
#include <string>

namespace hydra {

// Logs `e` (if set) as the end of `what`.
inline void log_exception(std::exception_ptr e, const std::string& what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("{} ended by an exception: {}", what, x.what());
  } catch (...) {
    spdlog::error("{} ended by an unknown exception", what);
  }
}

// co_spawn(ex, task(), logged("the task")) for a coroutine returning void.
inline auto logged(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) { log_exception(e, what); };
}

}  // namespace hydra
