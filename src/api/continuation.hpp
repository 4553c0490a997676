#pragma once
// Mid-stream continuation. A streamed /api/chat or /api/generate reply (what Ollama clients ask
// for, and what the OpenAI and /generate endpoints ask nodes for) whose node breaks off after
// the client has had part of it goes on on another node, from where it stopped: the relay
// sends the same request again with the text relayed so far as a trailing assistant message,
// which Ollama continues instead of starting a new answer.
//
// ContinuingSink sits between the relay's attempts and the requester's sink. It passes the
// node's stream on in whole lines (a line cut in half never reaches the client), keeps the
// text and thinking relayed so far, notices what ends a stream badly although its connection
// ended well (an {"error":...} line, a stream without its final chunk), and, once a second node
// carries on, rewrites that node's lines so that the client sees one stream: chat chunks back
// in generate's shape when a generate request went on as a chat, and one final chunk whose
// eval_count counts every token the client received.
#include "api/attempt.hpp"
#include "api/forwarding_sink.hpp"
#include "api/stream_line.hpp"

#include <optional>
#include <vector>

namespace hydra::api {

// The request that goes on with a broken reply, or why there is none.
struct FollowUp {
  std::optional<Upstream> upstream;
  bool generate_as_chat = false;  // a non-raw /api/generate continued as /api/chat
  std::string why_not;            // set when upstream is empty
};

// Builds the continuation of `original` (an /api/chat or /api/generate request) after `text`
// (and `thinking`), `tokens` chunks of it, reached the client. A chat that ended with the
// client's own assistant message (a prefill) has the partial answer appended to it; a positive
// `options.num_predict` is lowered by the tokens already sent (at least 1 stays). Refused for
// requests with `context`, a custom `template` or a `suffix`, which a continuation cannot honour.
FollowUp follow_up(const Upstream& original, std::string_view text, std::string_view thinking, uint64_t tokens);

// Whether a request is one a stream of which may be continued (/api/chat, /api/generate).
bool continuable(const Upstream& upstream);

class ContinuingSink final : public ForwardingSink {
public:
  ContinuingSink(ReplySink& inner, ReplyLimits limits) : ForwardingSink(inner), limits_(limits) {}

  http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                              const Served& served) override;
  http::awaitable<bool> data(std::string_view bytes) override;
  http::awaitable<void> end() override;
  // At once when the reply is no stream it follows (and it is no continuation's head).
  std::optional<bool> begin_now(int status, std::string& content_type, std::optional<std::uint64_t> length,
                                const Served& served) override;
  std::optional<bool> data_now(std::string_view bytes) override;
  bool end_now() override;
  // Passed on when the node's last bytes end the reply: they bring the final chunk of a
  // stream it follows (or the reply is no such stream).
  void body_ends() override { body_ends_ = true; }

  // Why the last attempt's node broke off although its connection ended well or the sink asked
  // it to stop (an error line, a stream that ended without its final chunk, a continuation
  // answered with something else than a stream). Empty when it did not; cleared by reading.
  std::string take_failure() { return std::exchange(failure_, {}); }

  bool began() const { return began_; }          // the requester has had the head
  bool following() const { return following_; }  // the reply is a stream this sink follows
  bool finished() const { return done_; }        // its final chunk went out
  bool tool_call() const { return tool_call_; }  // a tool call started: not continued
  bool text_kept() const { return !too_long_; }  // false past limits.reply_mb
  const std::string& text() const { return text_; }
  const std::string& thinking() const { return thinking_; }
  uint64_t tokens() const { return tokens_; }    // chunks relayed so far, one token each

  // The next attempt goes on with the reply: its head is not passed on, its lines are.
  void continue_with(Switch step, bool generate_as_chat);
  const std::vector<Switch>& switches() const { return switches_; }
  uint64_t eval_count() const { return eval_count_; }  // of the final chunk, after a switch

private:
  http::awaitable<bool> refuse_continuation(int status, std::string content_type);
  void take_head(int status, std::string_view content_type);  // the first node's head: began, following
  // The followed stream ended without its final chunk: the failure is noted; true then.
  bool ended_short();
  http::awaitable<bool> follow(std::string_view bytes);  // data() of a stream it follows
  // A piece data_now() read and left for data() to pass on: what goes on, and whether the node
  // may go on (false after an error line).
  struct Unfinished {
    std::string_view out;
    bool go_on = true;
  };
  http::awaitable<bool> finish();  // passes on the unfinished piece
  // A piece's lines read (what continuing needs) and made ready for the requester: what goes on,
  // a view of `bytes` or of out_; `go_on` false after an error line.
  std::string_view take_piece(std::string_view bytes, bool& go_on);
  http::awaitable<void> end_following();
  // One whole line from the node, with its '\n'. Appends what the requester gets to out_;
  // false when the line ends the node's part (an error line).
  bool take_line(std::string_view line);
  // ... before any switch: read for what continuing needs (the caller passes it on as it came).
  bool take_own_line(std::string_view line);
  // Counts a reply line: its text and thinking kept (within limits.reply_mb), a token or the end.
  void keep(std::string_view content, std::string_view thought, bool last);
  void forget_text();  // the reply grew past limits.reply_mb: no longer continuable

  ReplyLimits limits_;
  bool began_ = false, following_ = false, done_ = false, tool_call_ = false, body_ends_ = false;
  bool generate_as_chat_ = false, too_long_ = false;
  std::string pending_;  // the start of a line whose end has not come yet
  std::string out_;      // the lines of one piece, as the requester gets them
  std::string text_, thinking_, failure_;
  uint64_t tokens_ = 0, tokens_before_ = 0, eval_count_ = 0;
  std::vector<Switch> switches_;
  StreamLine scan_;  // the last line read, its strings' capacity kept
  std::optional<Unfinished> unfinished_;
};

}  // namespace hydra::api
