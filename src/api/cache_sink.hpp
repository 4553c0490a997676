#pragma once
// Sinks the response cache puts in front of a request's own sink (api/cache_dispatch.cpp).
// CacheTee, for a request that leads a flight or may be stored, records the node's reply as it
// passes: into the flight, so identical requests that came meanwhile read it too, and whole, so
// a complete reply can be stored. Its own client leaving does not end the reply while
// followers still read it.
#include "api/sink.hpp"
#include "memory/flight.hpp"

#include <functional>
#include <memory>

namespace hydra::api {

class CacheTee : public ReplySink {
public:
  // `flight`: where followers read (may be null). `record_limit`: keep the reply for the cache
  // while it is at most this long (0: do not keep it). The reply's X-Hydra-Cache label comes
  // with it from the relay (RelayOptions::cache_label, from DispatchRequest::cache).
  CacheTee(ReplySink& inner, std::shared_ptr<memory::Flight> flight, std::size_t record_limit)
      : inner_(inner), flight_(std::move(flight)), record_limit_(record_limit) {}

  // Called once, when the reply is whole and before its last bytes reach the client (so a
  // client that asks again at once finds it stored). Not called for a reply that fails.
  void on_complete(std::function<void()> f) { on_complete_ = std::move(f); }
  bool completed() const { return completed_; }

  http::awaitable<void> gone() override;
  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) override;
  http::awaitable<bool> data(std::string_view bytes) override;
  http::awaitable<void> end() override;
  void settled() override { inner_.settled(); }
  http::awaitable<void> broke(std::string message) override;
  http::awaitable<void> cut_short(int status, std::string message) override;
  http::awaitable<void> declined(int status, std::string content_type, std::string body) override;
  http::awaitable<void> fail(int status, std::string message, int retry_after_s) override;

  // A 2xx reply that arrived whole (its Content-Length, or the end of its stream), not cut.
  bool ended_well() const;
  // ...and recorded whole (within the record limit): worth storing.
  bool complete() const { return ended_well() && recorded_ <= record_limit_; }
  bool streamed() const { return streamed_; }
  const std::string& node() const { return node_; }
  std::vector<std::string> take_pieces() { return std::move(pieces_); }

private:
  bool followed() const { return flight_ && flight_->followers() > 0; }
  void complete_now();

  ReplySink& inner_;
  std::shared_ptr<memory::Flight> flight_;
  std::size_t record_limit_;
  std::function<void()> on_complete_;
  bool completed_ = false;
  bool inner_gone_ = false;
  bool ended_ = false, broken_ = false, streamed_ = false;
  int status_ = 0;
  std::optional<std::uint64_t> length_;
  std::string node_;
  std::size_t recorded_ = 0;
  std::vector<std::string> pieces_;
  std::string last_line_;  // a stream's latest complete line (its final chunk, at the end)
  std::string partial_;    // ...and the line still arriving
};

}  // namespace hydra::api
