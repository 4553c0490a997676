#pragma once
// How the client sub-commands (nodes, models, generate, orchestrate) talk to a running gateway:
// a blocking HTTP/1.1 call whose body can be watched as it streams, and a Server-Sent Events
// reader. CLI only: failures throw std::runtime_error with a sentence for the user.
#include <boost/json/value.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace hydra::app {

// The gateway's URL: HYDRA_URL if set (one URL or several separated by commas), else
// http://127.0.0.1:8001.
std::string default_gateway_url();

struct GatewayReply {
  std::string url;  // the gateway that answered
  int status = 0;
  std::string content_type;
  std::string body;  // the whole body (also when it was watched piece by piece)
};

// `urls` is http://HOST:PORT or https://HOST:PORT (verified against the system's CAs, or the
// PEM file HYDRA_GATEWAY_CA), or several separated by commas: tried in order, the next one
// when a gateway gives no reply (refused, timed out, closed before any byte of a reply) or
// answers 502/503 (a line on stderr says so); any other reply is the answer. `on_piece` sees
// the body as it arrives (never a 502/503's, so nothing is shown before the failover ends).
// HYDRA_API_KEY, when set, is sent as `Authorization: Bearer KEY`.
GatewayReply call_gateway(const std::string& urls, std::string_view method, std::string_view target,
                          std::string body = {}, const std::function<void(std::string_view)>& on_piece = {});

// Feeds SSE text in pieces; calls back once per whole event with its name and parsed data.
class SseReader {
public:
  using EventFn = std::function<void(std::string_view event, const boost::json::value& data)>;
  explicit SseReader(EventFn on_event) : on_event_(std::move(on_event)) {}
  void feed(std::string_view text);

private:
  EventFn on_event_;
  std::string pending_;
};

// The "error" of a JSON error body, else the body itself.
std::string error_text(const std::string& body);

}  // namespace hydra::app
