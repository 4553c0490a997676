#pragma once
// Where a relayed reply goes. The relay talks to nodes and decides which one serves; a sink
// decides what the requester sees: the node's bytes unchanged (the Ollama API), a translation
// (OpenAI, Hydra's /generate), or text collected for an internal caller (the orchestrator).
// A sink is owned by the handler that calls dispatch() and outlives it.
#include "http/types.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::api {

// How much of a node's reply a sink takes before it gives up on the node: one line of an
// NDJSON stream (limits.line_kb), and a whole reply it must hold (a body translated at the end,
// text collected for /generate or the orchestrator: limits.reply_mb). Past either, the sink
// answers with an error in its API's shape and asks the relay to stop, which drops the node's
// connection.
struct ReplyLimits {
  std::size_t line_bytes = std::size_t{1024} * 1024;
  std::size_t reply_bytes = std::size_t{64} * 1024 * 1024;
};

// "node X sent a line longer than N KiB" / "a reply longer than N MiB": the limits' errors.
std::string line_too_long(std::string_view node_id, std::size_t limit_bytes);
std::string reply_too_long(std::string_view node_id, std::size_t limit_bytes);

// A stream that went on on another node after its node broke off (continuation.hpp).
struct Switch {
  std::string from, to;       // node ids
  uint64_t after_tokens = 0;  // tokens the requester had when `from` broke off
};

// The node that served a request, and why routing picked it.
struct Served {
  std::size_t index = 0;  // into the snapshot's nodes
  std::string node_id;
  std::string node_url;
  std::string model;      // normalised; empty for per-node operations (pull, create)
  std::string reason;
  int attempt = 1;        // 1 = the first choice; more = after failover
  // Filled when the reply is complete:
  double ttft_ms = -1;    // request sent -> first byte of the reply
  double total_ms = -1;   // request sent -> end of the reply
  uint64_t eval_count = 0;  // tokens generated, from the reply's final chunk when it has one
  uint64_t prompt_eval_count = 0;  // prompt tokens, likewise (the last node's, after a switch)
  std::vector<Switch> continued;  // the stream's switches, when nodes broke off mid-stream
  std::string cache;  // X-Hydra-Cache: "miss", "hit; tier=l1", "coalesced", "bypass" ("": no cache)
};

// The headers every reply a node served carries: X-Hydra-Node, X-Hydra-Route-Reason and, when
// the response cache had a say, X-Hydra-Cache.
void set_served_headers(http::bhttp::fields& fields, const Served& served);
// The same fields for a streamed reply's head (http::Exchange::begin_stream), after `first`
// when it has a name: views of `served`, which must outlive the call.
struct ServedFields {
  ServedFields(const Served& served, http::HeadField first = {});
  http::HeadFields view() const { return {fields.data(), count}; }
  std::array<http::HeadField, 4> fields;
  std::size_t count = 0;
};

class ReplySink {
public:
  virtual ~ReplySink() = default;

  // Completes when the requester is gone (a client hung up); waits are abandoned then.
  // Must be cancellable: it is raced against upstream reads and queue waits.
  virtual http::awaitable<void> gone() = 0;

  // A node answered with this status. `length` is its Content-Length, when it sent one.
  // Each returns true when the requester is gone and the relay should stop.
  virtual http::awaitable<bool> begin(int status, std::string content_type, std::optional<std::uint64_t> length,
                                      const Served& served) = 0;
  virtual http::awaitable<bool> data(std::string_view bytes) = 0;
  virtual http::awaitable<void> end() = 0;
  // begin(), data() and end() at once, without a coroutine frame, for a sink that can (the
  // Ollama API's, whose bytes go straight to the client's socket). A value when it is done:
  // what the awaitable would have given (gone, for begin and data; end_now: true). Else the
  // caller awaits the call itself, at once and with the same arguments: it does, or finishes,
  // what was not done at once. By default nothing is:
  //   std::optional<bool> gone = sink.data_now(bytes);
  //   if (!gone) gone = co_await sink.data(bytes);
  virtual std::optional<bool> begin_now(int status, std::string& content_type, std::optional<std::uint64_t> length,
                                        const Served& served) {
    (void)status, (void)content_type, (void)length, (void)served;
    return std::nullopt;
  }
  virtual std::optional<bool> data_now(std::string_view bytes) {
    (void)bytes;
    return std::nullopt;
  }
  virtual bool end_now() { return false; }
  // The node's body ends with the bytes the next data_now() brings (told just before it). A
  // sink sure to end its reply after them may keep them for end_now() to send with the end of
  // the reply, in one write (the last NDJSON line and a chunked body's last chunk: one send,
  // not two); any other call after that sends them first. Not forwarded by default.
  virtual void body_ends() {}
  // The reply's final chunk is about to go out (a stream's "done" line): what waits for the
  // reply to be complete may go on (http::Exchange::settle).
  virtual void settled() {}
  // The serving node broke off after begin(): `message` says why.
  virtual http::awaitable<void> broke(std::string message) = 0;
  // The gateway cut the reply short after begin(): the request ran past timeouts.total_s (504)
  // or the shutdown grace ended (503). A sink that has sent nothing yet answers with `status`;
  // by default it is told as broke().
  virtual http::awaitable<void> cut_short(int status, std::string message) {
    (void)status;
    return broke(std::move(message));
  }

  // No node served. Either the best refusal a node gave (its status and body: 404, 503)...
  virtual http::awaitable<void> declined(int status, std::string content_type, std::string body) = 0;
  // ...or the gateway's own error: no such model, no node, busy (retry_after_s > 0), all failed.
  virtual http::awaitable<void> fail(int status, std::string message, int retry_after_s) = 0;
};

}  // namespace hydra::api
