#pragma once
// A sink that gathers a generate/chat reply as text: for the orchestrator's calls and Hydra's
// /generate. Pieces can be watched as they arrive; the node's final chunk (done, metrics) is
// kept. With no client behind it, it is never "gone".
#include "api/json_sink.hpp"

#include <chrono>
#include <functional>

namespace hydra::api {

class CollectSink : public JsonReplySink {
public:
  using PieceFn = std::function<void(std::string_view)>;
  explicit CollectSink(PieceFn on_piece = {}) : on_piece_(std::move(on_piece)) {}

  http::awaitable<void> gone() override;  // never, unless cancelled

  const std::string& text() const { return text_; }
  const boost::json::object& final_chunk() const { return final_; }  // done:true and the metrics
  bool complete() const { return complete_; }
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }
  int retry_after_s() const { return retry_after_s_; }
  // Milliseconds from construction to the first piece of text (0: none came).
  double first_piece_ms() const { return first_piece_ms_; }

protected:
  // Adds a chunk's text ("response" or "message.content") and returns it.
  std::string collect(const boost::json::object& chunk);

  http::awaitable<bool> on_object(const boost::json::object& chunk) override;
  http::awaitable<void> on_end() override;
  http::awaitable<void> on_error(int status, std::string message, int retry_after_s, bool mid_stream) override;

private:
  PieceFn on_piece_;
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::string text_;
  boost::json::object final_;
  bool complete_ = false;
  int error_status_ = 0;
  std::string error_;
  int retry_after_s_ = 0;
  double first_piece_ms_ = 0;
};

}  // namespace hydra::api
