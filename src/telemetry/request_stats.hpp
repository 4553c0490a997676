#pragma once
// Requests the gateway answered, counted by route and status, for GET /stats (and, later,
// Prometheus). Single-threaded: the gateway's thread.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace hydra::telemetry {

class RequestStats {
public:
  // `route` is the pattern that took the request ("/api/chat"); empty for unknown paths.
  void record(std::string_view route, int status, std::chrono::nanoseconds took);

  // Adds what `part` counted (a worker thread's tally).
  void fold(const RequestStats& part);

  uint64_t total() const { return total_; }
  uint64_t count(std::string_view route, int status) const;
  // {"total": n, "by_endpoint": {"/api/chat": {"total": n, "by_status": {"200": n}, "mean_ms": x}}}
  boost::json::object to_json() const;

private:
  struct PerRoute {
    uint64_t total = 0;
    double total_ms = 0;
    std::map<int, uint64_t> by_status;
  };
  uint64_t total_ = 0;
  std::map<std::string, PerRoute, std::less<>> routes_;
};

}  // namespace hydra::telemetry
