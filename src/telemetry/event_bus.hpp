#pragma once
// Live events for the dashboard (GET /events): routing decisions, orchestration progress, and
// the once-a-second fleet and traffic summaries. Publishers call publish(); each subscriber
// (one per connected page) gets every event after it subscribed. Single-threaded: the
// gateway's thread; subscribers must not publish or unsubscribe from inside the callback.
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string_view>

namespace hydra::telemetry {

class EventBus {
public:
  using Subscriber = std::function<void(std::string_view name, const boost::json::object& data)>;
  uint64_t subscribe(Subscriber s);
  void unsubscribe(uint64_t id);
  void publish(std::string_view name, const boost::json::object& data);
  std::size_t subscribers() const { return subscribers_.size(); }

private:
  std::map<uint64_t, Subscriber> subscribers_;
  uint64_t next_ = 1;
};

}  // namespace hydra::telemetry
