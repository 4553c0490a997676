#include "telemetry/event_bus.hpp"

namespace hydra::telemetry {

uint64_t EventBus::subscribe(Subscriber s) {
  subscribers_.emplace(next_, std::move(s));
  return next_++;
}

void EventBus::unsubscribe(uint64_t id) { subscribers_.erase(id); }

void EventBus::publish(std::string_view name, const boost::json::object& data) {
  for (const auto& [id, s] : subscribers_) s(name, data);
}

}  // namespace hydra::telemetry
