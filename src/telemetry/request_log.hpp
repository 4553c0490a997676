#pragma once
// The recent model requests, newest last, for GET /requests and the dashboard's Requests view:
// who asked (key, client), for what (route, model), where it went (node, attempts), how it
// ended (status, outcome), how long each part took, the tokens, and the routing decision
// behind it (shared with its routing log entry, so the trace outlives the routing log's ring).
// Bounded ring; listeners are told of each new record. Single-threaded: the gateway's thread.
#include "telemetry/routing_log.hpp"

#include "common/short_text.hpp"

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hydra::telemetry {

struct RequestRecord {
  uint64_t seq = 0;  // increasing with the order requests ended in; 0: the log numbers it
  std::chrono::system_clock::time_point at;  // when the request ended
  RequestIdText request_id;  // the client's X-Request-Id, when it sent one
  std::string key;         // the API key's name; "" with no keys configured (or none needed)
  std::string client;      // the client's address; "" for the gateway's own calls (orchestrate)
  std::string method;      // "POST"
  std::string endpoint;    // "/api/chat", "/v1/chat/completions", "orchestrate", ...
  std::string model;
  std::string node;        // the node that served (or last tried); "" when none
  int status = 0;          // the HTTP status the client got; 0 when it got none
  std::string outcome;     // as dispatch decided it: served | failed | rejected | unroutable | abandoned
  int attempts = 0;
  bool queued = false;
  double queue_ms = 0;
  double ttft_ms = -1;     // < 0: unknown (no node replied)
  double duration_ms = 0;  // arrival at dispatch -> end
  uint64_t tokens_in = 0;  // prompt_eval_count of the reply, when it said
  uint64_t tokens_out = 0; // eval_count
  std::optional<std::string> cache;  // the response cache's verdict (hit tier, miss); none yet
  std::shared_ptr<const RoutingEvent> routing;  // the decision behind it; none when it never got routed
};

boost::json::object to_json(const RequestRecord& r);

// What GET /requests asks for; empty strings match everything.
struct RequestFilter {
  std::string model, node, outcome;
  std::size_t limit = 100;
  uint64_t after = 0;  // only records with seq > after
  bool matches(const RequestRecord& r) const;
};

class RequestLog {
public:
  explicit RequestLog(std::size_t capacity = 1000) : capacity_(capacity ? capacity : 1) {}

  // A record may be numbered already (by Recorder, on the thread that served it): a worker's
  // arrive in batches, after others' with higher numbers; recent() orders them by seq. The
  // ring keeps the last `capacity` to arrive.
  uint64_t record(RequestRecord&& r);
  // Up to `limit` matching records, newest (highest seq) first.
  std::vector<const RequestRecord*> recent(const RequestFilter& filter) const;
  std::size_t size() const { return ring_.size(); }

  using Listener = std::function<void(const RequestRecord&)>;
  void listen(Listener listener) { listeners_.push_back(std::move(listener)); }

private:
  std::size_t capacity_;
  // A ring: the oldest record at ring_[head_] (0 until it is full), the newest just before it.
  // A record takes the oldest one's place by a move, which hands the old one's strings back.
  std::vector<RequestRecord> ring_;
  std::size_t head_ = 0;
  uint64_t next_seq_ = 1;
  std::vector<Listener> listeners_;
};

}  // namespace hydra::telemetry
