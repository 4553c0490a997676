#include "api/attempt.hpp"

#include "api/attempt_watch.hpp"
#include "api/llama_sink.hpp"

#include "cluster/cluster.hpp"
#include "http/body_reader.hpp"
#include "http/reply_head.hpp"
#include "http/descriptors.hpp"
#include "http/send.hpp"
#include "http/tls.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace hydra::api {

namespace asio = boost::asio;
namespace bhttp = http::bhttp;
using http::awaitable;
using http::use_nothrow;
using Clock = std::chrono::steady_clock;

namespace {

// The last line of a reply body, kept small: where Ollama puts its final counts.
class Tail {
public:
  void add(std::string_view bytes) {
    text_.append(bytes);
    if (text_.size() > 8192) text_.erase(0, text_.size() - 4096);
  }
  // The counts of the last JSON line (0 when it has none), read by hand: a quote followed by
  // the field's name and `":` can only be a key (a JSON string escapes its quotes), so no parse
  // is needed for three numbers.
  struct Counts {
    uint64_t eval = 0;         // eval_count
    uint64_t prompt_eval = 0;  // prompt_eval_count
    uint64_t prompt_eval_ns = 0;  // prompt_eval_duration
  };
  Counts counts() const {
    std::string_view t = text_;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
    if (const void* nl = ::memrchr(t.data(), '\n', t.size()))
      t.remove_prefix(static_cast<std::size_t>(static_cast<const char*>(nl) - t.data()) + 1);
    // One walk back over the line's quotes; the last occurrence of each key counts.
    constexpr std::string_view eval = "\"eval_count\":", prompt = "\"prompt_eval_count\":",
                               prompt_ns = "\"prompt_eval_duration\":";
    Counts c;
    bool seen[3] = {false, false, false};
    std::size_t span = t.size();
    while (span > 0 && !(seen[0] && seen[1] && seen[2])) {
      const void* p = ::memrchr(t.data(), '"', span);
      if (!p) break;
      const auto at = static_cast<std::size_t>(static_cast<const char*>(p) - t.data());
      span = at;
      const std::string_view from = t.substr(at);
      if (from.size() < 2 || (from[1] != 'e' && from[1] != 'p')) continue;
      if (!seen[0] && from.starts_with(eval)) {
        seen[0] = true;
        c.eval = number_after(from.substr(eval.size()));
      } else if (!seen[1] && from.starts_with(prompt)) {
        seen[1] = true;
        c.prompt_eval = number_after(from.substr(prompt.size()));
      } else if (!seen[2] && from.starts_with(prompt_ns)) {
        seen[2] = true;
        c.prompt_eval_ns = number_after(from.substr(prompt_ns.size()));
      }
    }
    return c;
  }

private:
  // The non-negative integer at the start of `rest` (after a key; 0 when not an integer, or too
  // big).
  static uint64_t number_after(std::string_view rest) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || (end != rest.data() + rest.size() && (*end == '.' || *end == 'e' || *end == 'E'))) return 0;
    return value;
  }

  std::string text_;
};

// Feeds the node's speed EWMAs that routing scores by.
// A whole (non-streamed) reply's first byte is its end, and its pieces are TCP reads, not
// tokens: only its duration says something.
void observe(cluster::NodeCounters& c, Clock::time_point sent, Clock::time_point first, Clock::time_point done,
             std::size_t pieces, bool streamed) {
  using ms = std::chrono::duration<double, std::milli>;
  cluster::NodeCounters::observe(c.duration_ms, ms(done - sent).count());
  if (!streamed) return;
  cluster::NodeCounters::observe(c.ttft_ms, ms(first - sent).count());
  if (pieces > 2) cluster::NodeCounters::observe(c.chunk_gap_ms, ms(done - first).count() / static_cast<double>(pieces - 1));
}

// The request's place at the node (its requests sent and not finished, itself included) for
// as long as it is there, and whether its reply has begun: what the node's CapacityLearner
// judges first-byte times by.
class AtNode {
public:
  explicit AtNode(std::shared_ptr<cluster::NodeCounters> live) : live_(std::move(live)), place_(live_->capacity.sent()) {}
  ~AtNode() { done(); }
  void done() {  // the node's reply has ended (once)
    if (live_) live_->capacity.finished(running_ > 0);
    live_.reset();
  }
  AtNode(const AtNode&) = delete;
  AtNode& operator=(const AtNode&) = delete;
  int place() const { return place_; }
  int first_byte() { return running_ = live_->capacity.first_byte(); }

private:
  std::shared_ptr<cluster::NodeCounters> live_;
  int place_;
  int running_ = 0;
};

bool is_stream_type(std::string_view type) {
  return type.starts_with("application/x-ndjson") || type.starts_with("text/event-stream");
}

// A streamed reply's first byte teaches the node's learner: its parallelism for the model when
// the model was resident, the load time when it was not (or was loading). A whole reply's first
// byte is its end, which says nothing about queueing: not counted.
void learn_capacity(const cluster::NodeView& node, const std::string& model, AtNode& at, std::string_view type,
                    double ttfb_ms) {
  if (model.empty() || !is_stream_type(type)) return;
  const int running = at.first_byte();
  const bool loading = std::find(node.loading.begin(), node.loading.end(), model) != node.loading.end();
  if (!node.resident_model(model) || loading) node.live->capacity.observe_load(model, ttfb_ms);
  else node.live->capacity.observe(model, at.place(), running, ttfb_ms, Clock::now());
}

std::string cut_message(Gateway& gw, Cut cut) {
  if (cut == Cut::stopping) return "hydra is shutting down; the request was cut off at the end of the grace period";
  return fmt::format("the request ran longer than timeouts.total_s ({:g} s)",
                     std::chrono::duration<double>(gw.settings.timeouts.total).count());
}

// The reply body, piece by piece into the sink: read off the node's socket as it comes and its
// framing undone in place (http::BodyReader), without Beast's parser and stream layers. Not
// cancellable from outside (a chunk half written to the client would break its framing); the
// AttemptWatch ends it by closing the node's socket, also when the node falls silent for longer
// than `idle`.
struct Pump {
  http::Connection& conn;
  http::BodyReader& body;
  ReplySink& sink;
  AttemptWatch& watch;
  std::chrono::milliseconds idle;
  std::size_t pieces = 0;
  uint64_t bytes = 0;
  Tail tail;
  bool client_gone = false;
  std::string error;  // the node's failure, when it broke off
  std::unique_ptr<Lease>& lease;  // given back once the node's reply is all read
  AtNode& at_node;                // likewise: the node's requests no longer count it
  // Between take_piece() and after_piece(): the piece the sink left to data(), the read's error
  // (or the body's framing's), whether the read filled the piece.
  std::string_view unsent;
  http::error_code rec;
  bool full_read = false;
};

// What became of one piece of the reply: read on, stop (the body is over, the node broke off
// or the requester left), or wait until the sink takes p.unsent (data() after data_now(): pump()).
enum class Flow { more, stop, send };

// After a piece went to the sink: the read's error ends the pump; a full read makes the next
// ones larger (a big body takes few reads).
Flow after_piece(Pump& p) {
  if (p.rec) {
    p.error = p.watch.cut() == Cut::idle_timeout ? "no data within the idle timeout" : p.rec.message();
    return Flow::stop;
  }
  if (p.full_read) p.conn.grow_piece();
  return p.body.done() ? Flow::stop : Flow::more;
}

// The `n` bytes at `buf` (one read's, or what the head's read took beyond the head), `rec` the
// read's error: their framing undone in place, the slot given back once the body is all read,
// and the body's bytes handed to the sink at once when its socket takes them.
Flow take_piece(Pump& p, char* buf, std::size_t n, http::error_code rec) {
  http::error_code malformed;
  const std::size_t got = n > 0 ? p.body.decode(buf, n, malformed) : 0;
  if (p.body.done()) {  // the node is done: its slot is free before the requester has it all
    p.lease.reset();
    p.at_node.done();
    // Bytes after the body stay held: such a connection is not pooled (ConnectionPool::release).
    auto& held = p.conn.buffer;
    if (const std::size_t after = n - p.body.consumed(); after > 0)
      held.commit(asio::buffer_copy(held.prepare(after), asio::buffer(buf + p.body.consumed(), after)));
  }
  p.rec = rec ? rec : malformed;
  p.full_read = n == p.conn.piece_size;
  if (got) {
    p.tail.add(std::string_view(buf, got));
    const std::string_view piece(buf, got);
    // The sink may hold these last bytes for the end of the reply: only when nothing cut the
    // attempt meanwhile, since rounds() then returns before it ends the reply (a client that
    // half-closed would get the chunked end without the final line).
    if (p.body.done() && p.watch.cut() == Cut::none) p.sink.body_ends();
    const std::optional<bool> gone = p.sink.data_now(piece);  // no frame when the socket takes it
    if (!gone) {
      p.unsent = piece;
      return Flow::send;
    }
    if (*gone) {
      p.client_gone = true;
      return Flow::stop;
    }
    ++p.pieces;
    p.bytes += got;
  }
  return after_piece(p);
}

// What the head's read brought beyond the head, handed on without a frame: true when that
// ended the pump (a small reply comes whole with its head); false when pump() must go on.
bool pump_held(Pump& p) {
  auto& held = p.conn.buffer;
  while (!p.body.done() && held.size() > 0) {
    char* buf = p.conn.piece();
    const std::size_t n = asio::buffer_copy(asio::buffer(buf, p.conn.piece_size), held.data());
    held.consume(n);
    const Flow flow = take_piece(p, buf, n, {});
    if (flow != Flow::more) return flow == Flow::stop;
  }
  return p.body.done();
}

awaitable<void> pump(Pump& p) {
  co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
  for (;;) {
    if (!p.unsent.empty()) {  // a piece the client's socket did not take at once
      const bool gone = co_await p.sink.data(p.unsent);
      const std::size_t size = std::exchange(p.unsent, {}).size();
      if (gone) {
        p.client_gone = true;
        co_return;
      }
      ++p.pieces;
      p.bytes += size;
      if (after_piece(p) == Flow::stop) co_return;
    }
    if (p.body.done()) co_return;
    if (p.conn.buffer.size() > 0) {  // held by the head's read
      if (pump_held(p)) co_return;
      continue;
    }
    char* buf = p.conn.piece();
    const auto piece = asio::buffer(buf, p.conn.piece_size);
    std::size_t n = 0;
    http::error_code rec;
    p.watch.reading(p.idle);
    if (p.conn.stream.is_tls()) std::tie(rec, n) = co_await p.conn.stream.async_read_some(piece, use_nothrow);
    else  // the read that brings the rest of a body of known length is the socket's last for now
      std::tie(rec, n) = co_await p.conn.reads.async_read_some(
          piece, http::ReadEnds{&http::BodyReader::read_ends, &p.body}, use_nothrow);
    p.watch.not_reading();  // the requester's sink takes what time it takes
    if (rec == asio::error::eof) rec = p.body.end_of_input();
    if (take_piece(p, buf, n, rec) == Flow::stop) co_return;
  }
}

// A node's error reply: its body, up to `cap` bytes, into `out`; read to its end if it fits.
awaitable<void> read_error_body(http::Connection& conn, http::BodyReader& body, std::string& out, std::size_t cap,
                                AttemptWatch& watch, std::chrono::milliseconds idle) {
  while (!body.done() && out.size() < cap) {
    http::error_code ec;
    if (conn.buffer.size() == 0) {
      watch.reading(idle);
      std::size_t n = 0;
      std::tie(ec, n) = co_await conn.stream.async_read_some(conn.buffer.prepare(4096), use_nothrow);
      conn.buffer.commit(n);
      if (ec == asio::error::eof) ec = body.end_of_input();
    }
    char* data = static_cast<char*>(conn.buffer.data().data());
    http::error_code malformed;
    const std::size_t got = body.decode(data, conn.buffer.size(), malformed);
    out.append(data, std::min(got, cap - out.size()));
    conn.buffer.consume(body.consumed());
    if (ec || malformed) co_return;
  }
}

// A cut before the sink began: the requester is told, unless it left.
awaitable<Outcome> cut_before_reply(Gateway& gw, ReplySink& sink, Cut cut) {
  if (cut == Cut::client_gone) co_return Outcome{Outcome::Kind::client_gone, "client left"};
  if (cut == Cut::node_down) co_return Outcome{Outcome::Kind::node_failed, "the node was ejected before it replied"};
  if (cut == Cut::first_byte_timeout) co_return Outcome{Outcome::Kind::node_failed, "no reply within the first-byte timeout"};
  if (cut == Cut::idle_timeout) co_return Outcome{Outcome::Kind::node_failed, "no data within the idle timeout"};
  std::string message = cut_message(gw, cut);
  co_await sink.fail(cut == Cut::stopping ? 503 : 504, message, cut == Cut::stopping ? 1 : 0);
  co_return Outcome{Outcome::Kind::interrupted, std::move(message)};
}

awaitable<Outcome> rounds(Gateway& gw, ReplySink& sink, const cluster::NodeView& node, const Served& served,
                          const Upstream& upstream, AttemptWatch& watch, std::unique_ptr<Lease>& lease) {
  const auto& t = gw.settings.timeouts;
  const http::Peer ep = cluster::peer_of(node);
  // A pooled connection the node had closed while it sat idle fails before any byte of the
  // reply: the request goes once more on a new connection (ConnectionPool::retry_fresh).
  http::Reuse reuse = http::Reuse::pooled;
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<http::Connection> conn = gw.pool().take_idle(ep, reuse);  // no frame for a pooled one
    http::error_code cec;
    if (!conn) {
      auto made = co_await gw.pool().open(ep, t.connect);
      cec = made.first;
      conn = std::move(made.second);
    }
    if (cec) {
      if (http::out_of_descriptors(cec)) {  // the gateway's own shortage: no fault of the node's
        std::string message = "hydra is out of file descriptors (its open-file limit): try again shortly";
        co_await sink.fail(503, message, 1);
        co_return Outcome{Outcome::Kind::interrupted, std::move(message)};
      }
      std::string why = http::is_tls_error(cec) ? http::error_text(cec, node.tls_name) : "connect: " + cec.message();
      co_return Outcome{Outcome::Kind::node_failed, std::move(why)};
    }
    // The watch may close this connection's socket until it goes back to the pool or away.
    watch.aim(&conn->stream.socket());
    struct Unaim {
      AttemptWatch& watch;
      ~Unaim() { watch.aim(nullptr); }
    } unaim{watch};

    // The body goes out from the caller's copy: one copy per request, however many attempts.
    http::write_request_head(conn->head, upstream.method, upstream.target, upstream.headers, node.host_header,
                             upstream.body.size());
    const auto request = http::head_and_body(conn->head, upstream.body);
    std::size_t sent = 0;
    http::error_code wec;
    if (!http::write_now(conn->stream, request, sent, wec)) wec = co_await http::write_rest(conn->stream, request, sent, t.idle);
    if (watch.cut() != Cut::none) co_return co_await cut_before_reply(gw, sink, watch.cut());
    if (wec) {
      if (gw.pool().retry_fresh(ep, *conn, wec, false)) {
        reuse = http::Reuse::fresh;
        continue;
      }
      co_return Outcome{Outcome::Kind::node_failed, "send: " + wec.message()};
    }

    const auto sent_at = Clock::now();
    AtNode at_node(node.live);
    http::ReplyHead head;
    if (upstream.method == bhttp::verb::head) head.no_body();
    conn->stream.expires_never();  // the watch times the node's silence
    watch.expect_reply(t.first_byte);
    // Wait for the node's answer; the watch stops it at once if the requester leaves meanwhile
    // (dropping the upstream connection is what tells the node to stop generating), if the
    // request runs out of time or the gateway stops, or if health checks eject the node
    // meanwhile (a frozen machine: nothing was sent to the client yet, so the request fails
    // over as if refused).
    // read_reply_head's steps in this frame (one frame fewer per request).
    http::error_code hec;
    const http::HeadRead head_read{conn->buffer, head};
    while ((hec = http::take_reply_head(*conn, head)) == bhttp::error::need_more) {
      http::error_code rec;
      std::size_t n = 0;
      std::tie(rec, n) = co_await http::read_for_head(*conn, head_read);
      if ((hec = http::head_bytes_read(*conn, rec, n))) break;
    }
    if (watch.cut() != Cut::none) co_return co_await cut_before_reply(gw, sink, watch.cut());
    watch.replied();
    if (hec) {
      if (gw.pool().retry_fresh(ep, *conn, hec, conn->buffer.size() > 0)) {
        reuse = http::Reuse::fresh;
        continue;
      }
      // (The first-byte timeout is the watch's: a cut, above.)
      co_return Outcome{Outcome::Kind::node_failed, "reply: " + hec.message()};
    }
    const int status = head.status();
    std::string content_type = std::move(head.content_type());
    const bool streamed = is_stream_type(content_type);
    const auto first_byte_at = Clock::now();
    if (status == 200)
      learn_capacity(node, served.model, at_node, content_type,
                     std::chrono::duration<double, std::milli>(first_byte_at - sent_at).count());

    if (status >= 500 || status == 404) {
      // Not served here. Keep the node's words (up to 1 MiB) in case no other node does better.
      constexpr std::size_t kept = 1u << 20;
      std::string reply;
      http::BodyReader body(head.framing(), head.content_length().value_or(0));
      co_await read_error_body(*conn, body, reply, kept, watch, t.idle);
      // A node silent in the middle of its error: what came of it is kept, as before.
      if (watch.cut() != Cut::none && watch.cut() != Cut::idle_timeout)
        co_return co_await cut_before_reply(gw, sink, watch.cut());
      watch.aim(nullptr);
      if (body.done() && body.reusable() && head.keep_alive()) gw.pool().release(ep, std::move(conn));
      // 503 (busy) and 404 (model not there after all) say nothing bad about the node.
      auto kind = status == 503 || status == 404 ? Outcome::Kind::node_declined : Outcome::Kind::node_failed;
      co_return Outcome{kind, fmt::format("status {}", status), status, content_type, std::move(reply)};
    }

    std::optional<std::uint64_t> length;
    if (!head.chunked() && head.content_length()) length = *head.content_length();
    std::optional<bool> left = sink.begin_now(status, content_type, length, served);  // no frame when it can
    if (!left) left = co_await sink.begin(status, std::move(content_type), length, served);
    if (*left) co_return Outcome{Outcome::Kind::client_gone, "client left"};

    http::BodyReader body(head.framing(), length.value_or(0));
    Pump p{*conn, body, sink, watch, t.idle, 0, 0, {}, false, {}, lease, at_node, {}, {}, false};
    if (!pump_held(p)) co_await pump(p);  // no frame when the head's read brought the whole reply
    const Cut cut = watch.cut();
    if (p.client_gone || cut == Cut::client_gone) {
      Outcome gone{Outcome::Kind::client_gone, "client left"};
      gone.chunks = p.pieces;
      gone.bytes = p.bytes;
      gone.ttft_ms = std::chrono::duration<double, std::milli>(first_byte_at - sent_at).count();
      co_return gone;
    }
    if (cut == Cut::stopping || cut == Cut::total_timeout) {
      std::string message = cut_message(gw, cut);
      co_await sink.cut_short(cut == Cut::stopping ? 503 : 504, message);
      co_return Outcome{Outcome::Kind::interrupted, std::move(message)};
    }
    if (!p.error.empty()) co_return Outcome{Outcome::Kind::failed_mid_stream, p.error};  // the relay tells the sink
    if (!sink.end_now()) co_await sink.end();
    watch.aim(nullptr);
    if (body.reusable() && head.keep_alive()) gw.pool().release(ep, std::move(conn));
    const auto done_at = Clock::now();
    observe(*node.live, sent_at, first_byte_at, done_at, p.pieces, streamed);
    Outcome out(Outcome::Kind::served);
    out.ttft_ms = std::chrono::duration<double, std::milli>(first_byte_at - sent_at).count();
    out.total_ms = std::chrono::duration<double, std::milli>(done_at - sent_at).count();
    const Tail::Counts counts = p.tail.counts();
    out.eval_count = counts.eval;
    out.prompt_eval_count = counts.prompt_eval;
    // Prompt evaluation speed, for prefix routing; short prompts measure set-up, not speed.
    if (counts.prompt_eval >= 64 && counts.prompt_eval_ns > 0)
      cluster::NodeCounters::observe(node.live->prefill_tps, static_cast<double>(counts.prompt_eval) * 1e9 /
                                                                 static_cast<double>(counts.prompt_eval_ns));
    // ... and what a slot is held for besides it: the wait for a slot there, for prefix routing
    // (a long prompt's cold first turn would make every later wait look long).
    if (counts.prompt_eval_ns > 0)
      cluster::NodeCounters::observe(node.live->generation_ms,
                                     std::max(0.0, out.total_ms - static_cast<double>(counts.prompt_eval_ns) / 1e6));
    co_return out;
  }
  co_return Outcome{Outcome::Kind::node_failed, "connection closed"};
}

}  // namespace

namespace {

// A llama-server node is asked in its own API (api/llama/request.hpp), and its reply turned
// back into Ollama's on the way to the sink.
awaitable<Outcome> attempt_llama(Gateway& gw, ReplySink& sink, const cluster::NodeView& node, const Served& served,
                                 const Upstream& upstream, AttemptWatch& watch, std::unique_ptr<Lease>& lease) {
  auto translated = llama::translate_request(upstream.target, std::string_view(upstream.body));
  if (auto* error = std::get_if<std::string>(&translated)) {
    co_await sink.fail(400, *error, 0);
    co_return Outcome{Outcome::Kind::interrupted, *error};
  }
  const llama::Translated& t = std::get<llama::Translated>(translated);
  if (t.load_only) {
    co_await answer_load(sink, t, served);
    co_return Outcome{Outcome::Kind::served};
  }
  Upstream up;
  up.method = http::bhttp::verb::post;
  up.target = t.target;
  up.headers = upstream.headers;
  up.headers.set(http::bhttp::field::content_type, "application/json");
  up.body = t.body;
  LlamaSink translating(sink, t, gw.settings.limits.reply_bytes);
  Outcome out = co_await rounds(gw, translating, node, served, up, watch, lease);
  if (out.kind == Outcome::Kind::served) {
    out.eval_count = translating.eval_count();
    out.prompt_eval_count = translating.prompt_eval_count();
  } else if (out.kind == Outcome::Kind::node_declined) {
    out.body = llama::ollama_error(out.body);
    out.content_type = "application/json; charset=utf-8";
  }
  co_return out;
}

// Ollama-only endpoints (show, embeddings, ...) are not asked of a llama-server node; another
// node may have the model.
awaitable<Outcome> not_on_llama_server(const cluster::NodeView& node, const Served& served, const Upstream& upstream) {
  std::string path = upstream.target.substr(0, upstream.target.find('?'));
  std::string body = boost::json::serialize(boost::json::object{
      {"error", fmt::format("model '{}' is served by a llama.cpp llama-server node ({}), which does not serve {}",
                            served.model, node.id, path)}});
  co_return Outcome{Outcome::Kind::node_declined, "llama-server: " + path + " is not served", 404,
                    "application/json; charset=utf-8", std::move(body)};
}

}  // namespace

awaitable<Outcome> attempt(Gateway& gw, ReplySink& sink, const cluster::NodeView& node, const Served& served,
                           const Upstream& upstream, AttemptWatch& watch, std::unique_ptr<Lease>& lease) {
  if (node.kind != cluster::NodeKind::llama_server) return rounds(gw, sink, node, served, upstream, watch, lease);
  if (llama::translatable(upstream.target)) return attempt_llama(gw, sink, node, served, upstream, watch, lease);
  return not_on_llama_server(node, served, upstream);
}

}  // namespace hydra::api
