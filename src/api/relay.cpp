#include "api/relay.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hydra::api {

namespace asio = boost::asio;
namespace bhttp = http::bhttp;
using http::awaitable;
using http::use_nothrow;

namespace {

// Hop-by-hop and framing headers are the proxy's own business, never forwarded.
bool hop_by_hop(bhttp::field f, std::string_view name) {
  switch (f) {
    case bhttp::field::connection: case bhttp::field::keep_alive: case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization: case bhttp::field::te: case bhttp::field::trailer:
    case bhttp::field::transfer_encoding: case bhttp::field::upgrade: case bhttp::field::host:
    case bhttp::field::content_length: case bhttp::field::expect: return true;
    default: return name.starts_with("X-Hydra-") || name.starts_with("x-hydra-");
  }
}

struct Outcome {
  enum class Kind { served, client_gone, node_failed, node_declined, failed_mid_stream };
  Outcome(Kind k = Kind::served, std::string e = {}, int s = 0, std::string ct = {}, std::string b = {})
      : kind(k), error(std::move(e)), status(s), content_type(std::move(ct)), body(std::move(b)) {}
  Kind kind;
  std::string error;
  int status = 0;          // node_declined: the node's reply, kept in case no node does better
  std::string content_type;
  std::string body;
};

// Counts one attempt on a node as in flight (unless admission reserved the slot already)
// and, when it ends, lets admission hand the freed slot to a waiter.
struct InFlight {
  InFlight(Gateway& gw, const cluster::NodeView& node, bool reserved)
      : gw(gw), counters(node.live), index(node.index), counted(!reserved) {
    if (counted) counters->in_flight.fetch_add(1, std::memory_order_relaxed);
    counters->requests.fetch_add(1, std::memory_order_relaxed);
  }
  ~InFlight() {
    if (!counted) return;
    counters->in_flight.fetch_sub(1, std::memory_order_relaxed);
    gw.admission.freed(index);
  }
  Gateway& gw;
  std::shared_ptr<cluster::NodeCounters> counters;
  std::size_t index;
  bool counted;
};

// Feeds the node's speed EWMAs that routing scores by.
void observe(cluster::NodeCounters& c, std::chrono::steady_clock::time_point sent,
             std::chrono::steady_clock::time_point first, std::chrono::steady_clock::time_point done,
             std::size_t pieces) {
  using ms = std::chrono::duration<double, std::milli>;
  cluster::NodeCounters::observe(c.ttft_ms, ms(first - sent).count());
  cluster::NodeCounters::observe(c.duration_ms, ms(done - sent).count());
  if (pieces > 2) cluster::NodeCounters::observe(c.chunk_gap_ms, ms(done - first).count() / static_cast<double>(pieces - 1));
}

std::string error_line(std::string_view message) {
  boost::json::object o;
  o["error"] = message;
  return boost::json::serialize(o) + "\n";
}

awaitable<Outcome> try_node(Gateway& gw, http::Exchange& ex, const cluster::NodeView& node,
                            const std::string& reason, const std::string& body) {
  using namespace asio::experimental::awaitable_operators;
  const auto& t = gw.settings.timeouts;
  boost::system::error_code addr_ec;
  http::tcp::endpoint ep(asio::ip::make_address(node.ip, addr_ec), node.port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto [cec, conn] = co_await gw.pool.acquire(ep, t.connect);
    if (cec) co_return Outcome{Outcome::Kind::node_failed, "connect: " + cec.message()};

    http::Request up{ex.request().method(), ex.request().target(), 11};
    for (const auto& f : ex.request())
      if (!hop_by_hop(f.name(), f.name_string())) up.set(f.name_string(), f.value());
    up.set(bhttp::field::host, node.host_header);
    up.keep_alive(true);
    up.body() = body;
    up.prepare_payload();
    conn->stream.expires_after(t.idle);
    auto [wec, wn] = co_await bhttp::async_write(conn->stream, up, use_nothrow);
    if (wec) {
      if (conn->reused) continue;  // a stale pooled connection: one more try on a fresh one
      co_return Outcome{Outcome::Kind::node_failed, "send: " + wec.message()};
    }

    const auto sent_at = std::chrono::steady_clock::now();
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    if (ex.request().method() == bhttp::verb::head) parser.skip(true);
    conn->stream.expires_after(t.first_byte);
    // Wait for the node's answer, but stop at once if the client hangs up meanwhile: dropping
    // the upstream connection is what tells the node to stop generating.
    auto first = co_await (bhttp::async_read_header(conn->stream, conn->buffer, parser, use_nothrow) ||
                           ex.wait_closed());
    if (first.index() == 1) co_return Outcome{Outcome::Kind::client_gone, "client left"};
    auto [hec, hn] = std::get<0>(first);
    if (hec) {
      if (conn->reused && attempt == 0 && hec != boost::beast::error::timeout) continue;
      co_return Outcome{Outcome::Kind::node_failed,
                        hec == boost::beast::error::timeout ? "no reply within the first-byte timeout"
                                                            : "reply: " + hec.message()};
    }
    const int status = parser.get().result_int();
    const std::string content_type(parser.get()[bhttp::field::content_type]);
    const auto first_byte_at = std::chrono::steady_clock::now();

    if (status >= 500 || status == 404) {
      // Not served here. Keep the node's words in case no other node does better.
      std::string reply;
      char buf[8192];
      while (!parser.is_done() && reply.size() < (1u << 20)) {
        parser.get().body().data = buf;
        parser.get().body().size = sizeof buf;
        conn->stream.expires_after(t.idle);
        auto [rec, rn] = co_await bhttp::async_read_some(conn->stream, conn->buffer, parser, use_nothrow);
        reply.append(buf, sizeof buf - parser.get().body().size);
        if (rec && rec != bhttp::error::need_buffer) break;
      }
      if (parser.is_done() && parser.get().keep_alive()) gw.pool.release(ep, std::move(conn));
      // 503 (busy) and 404 (model not there after all) say nothing bad about the node.
      auto kind = status == 503 || status == 404 ? Outcome::Kind::node_declined : Outcome::Kind::node_failed;
      co_return Outcome{kind, fmt::format("status {}", status), status, content_type, std::move(reply)};
    }

    bhttp::fields extra;
    extra.set("X-Hydra-Node", node.id);
    extra.set("X-Hydra-Route-Reason", reason);
    std::optional<std::uint64_t> length;
    if (!parser.chunked() && parser.content_length()) length = *parser.content_length();
    // Named, not inline: g++ 12 double-frees a temporary made by ?: inside a co_await expression.
    const std::string reply_type = content_type.empty() ? "application/json; charset=utf-8" : content_type;
    if (co_await ex.begin_stream(static_cast<bhttp::status>(status), reply_type, &extra, length))
      co_return Outcome{Outcome::Kind::client_gone, "client left"};

    char buf[16384];
    bool at_line_start = true;
    std::size_t pieces = 0;
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof buf;
      conn->stream.expires_after(t.idle);
      auto [rec, rn] = co_await bhttp::async_read_some(conn->stream, conn->buffer, parser, use_nothrow);
      if (rec == bhttp::error::need_buffer) rec = {};
      std::size_t got = sizeof buf - parser.get().body().size;
      if (got) {
        if (co_await ex.send_chunk(std::string_view(buf, got)))
          co_return Outcome{Outcome::Kind::client_gone, "client left"};
        at_line_start = buf[got - 1] == '\n';
        ++pieces;
      }
      if (rec) {
        std::string why = rec == boost::beast::error::timeout ? "no data within the idle timeout" : rec.message();
        if (length) {
          ex.abort();  // a sized body cannot carry an error line: the client sees a short body
        } else {
          std::string line = at_line_start ? "" : "\n";
          line += error_line(fmt::format("node {} failed mid-stream: {}", node.id, why));
          co_await ex.send_chunk(line);
          co_await ex.end_stream();
        }
        co_return Outcome{Outcome::Kind::failed_mid_stream, why};
      }
    }
    co_await ex.end_stream();
    if (parser.get().keep_alive()) gw.pool.release(ep, std::move(conn));
    observe(*node.live, sent_at, first_byte_at, std::chrono::steady_clock::now(), pieces);
    co_return Outcome{Outcome::Kind::served};
  }
  co_return Outcome{Outcome::Kind::node_failed, "connection closed"};
}

}  // namespace

awaitable<void> reply_route_error(http::Exchange& ex, const routing::Decision& decision) {
  co_await ex.respond_error(static_cast<bhttp::status>(decision.error_status), decision.error);
}

awaitable<void> relay(Gateway& gw, http::Exchange& ex, std::shared_ptr<const cluster::Snapshot> snapshot,
                      const routing::Decision& decision, RelayOptions options) {
  if (!decision.ok()) {
    co_await reply_route_error(ex, decision);
    co_return;
  }
  std::optional<Outcome> declined;
  std::string failures;
  int attempts = 0;
  for (std::size_t index : decision.ranked) {
    if (attempts++ >= gw.settings.max_attempts) break;
    const cluster::NodeView& node = snapshot->nodes[index];
    std::string reason = attempts == 1 ? decision.reason
                                       : fmt::format("{} (attempt {}: earlier nodes failed: {})", decision.reason,
                                                     attempts, failures);
    Outcome out;
    {
      InFlight guard(gw, node, options.reserved_node == index);
      out = co_await try_node(gw, ex, node, reason, options.body);
    }
    switch (out.kind) {
      case Outcome::Kind::served:
        gw.cluster.report_success(index);
        if (options.refresh_after) gw.cluster.request_refresh(index);
        co_return;
      case Outcome::Kind::client_gone:
        co_return;
      case Outcome::Kind::failed_mid_stream:
        gw.cluster.report_failure(index, out.error);
        co_return;
      case Outcome::Kind::node_declined:
        if (out.status == 404) gw.cluster.request_refresh(index);
        declined = std::move(out);
        break;
      case Outcome::Kind::node_failed:
        spdlog::warn("node {} failed before replying ({}); trying the next candidate", node.id, out.error);
        gw.cluster.report_failure(index, out.error);
        failures += (failures.empty() ? "" : "; ") + node.id + ": " + out.error;
        if (out.status) declined = std::move(out);
        break;
    }
  }
  if (declined && declined->status) {
    http::Response res{static_cast<bhttp::status>(declined->status), 11};
    if (declined->content_type.empty()) declined->content_type = "application/json; charset=utf-8";
    res.set(bhttp::field::content_type, declined->content_type);
    res.body() = std::move(declined->body);
    co_await ex.respond(std::move(res));
    co_return;
  }
  co_await ex.respond_error(bhttp::status::bad_gateway,
                            fmt::format("no node could serve the request: {}", failures));
}

}  // namespace hydra::api
