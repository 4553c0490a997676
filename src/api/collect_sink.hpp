#pragma once
// A sink that gathers a generate/chat reply as text: for the orchestrator's calls and Hydra's
// /generate. Pieces can be watched as they arrive; the node's final chunk (done, metrics) is
// kept. The text is bounded (limits.reply_mb: past it the reply is refused with a 502). It is
// "gone" when its `gone` signal is set (the orchestrator cancelled the run, the client of
// /generate hung up); without one, never.
#include "api/json_sink.hpp"
#include "orchestrate/cancel.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace hydra::api {

class CollectSink : public JsonReplySink {
public:
  using PieceFn = std::function<void(std::string_view)>;
  explicit CollectSink(PieceFn on_piece = {}, ReplyLimits limits = {},
                       std::shared_ptr<orchestrate::Cancel> gone = {})
      : JsonReplySink(limits), on_piece_(std::move(on_piece)), gone_(std::move(gone)) {}

  http::awaitable<void> gone() override;  // when the `gone` signal is set; never without one

  const std::string& text() const { return text_; }
  const boost::json::object& final_chunk() const { return final_; }  // done:true and the metrics
  bool complete() const { return complete_; }
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }
  int retry_after_s() const { return retry_after_s_; }
  // Milliseconds from construction to the first piece of text (0: none came).
  double first_piece_ms() const { return first_piece_ms_; }

protected:
  // A piece of text was collected (after on_piece). True = stop.
  virtual http::awaitable<bool> on_text(std::string_view) { co_return false; }
  bool requester_gone() const { return gone_ && gone_->cancelled(); }

  http::awaitable<bool> on_object(const boost::json::object& chunk) final;
  http::awaitable<void> on_end() override;
  http::awaitable<void> on_error(int status, std::string message, int retry_after_s, bool mid_stream) override;

private:
  PieceFn on_piece_;
  std::shared_ptr<orchestrate::Cancel> gone_;
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
