#pragma once
// What the steps of one run share: the run record being filled, where events go, where the
// run is saved. Lives in the run's coroutine frame; every step of the run (and every sub-task
// coroutine) touches it from the run's strand only.
#include "orchestrate/caller.hpp"
#include "orchestrate/events.hpp"
#include "orchestrate/run.hpp"
#include "orchestrate/store.hpp"

#include <chrono>

namespace hydra::orchestrate {

struct RunContext {
  RunContext(ModelCaller& c, EventFn fn, RunStore* s) : caller(c), on_event(std::move(fn)), store(s) {}
  ModelCaller& caller;
  EventFn on_event;
  RunStore* store = nullptr;  // nullptr: not persisted
  int priority = 5;
  std::shared_ptr<Cancel> cancel;  // the run's; null: it cannot be cancelled
  Run run;

  bool cancelled() const { return cancel && cancel->cancelled(); }

  void emit(std::string_view name, const boost::json::object& data) const {
    if (on_event) on_event(name, data);
  }
  // Saves the run if there is a store; a failed save is logged, never fatal.
  void persist() const;
};

inline int64_t ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace hydra::orchestrate
