#include "api/relay.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
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
  double ttft_ms = -1, total_ms = -1;  // served: timings
  uint64_t eval_count = 0;             // served: from the reply's last line
};

// The last line of a reply body, kept small: where Ollama puts its final counts.
class Tail {
public:
  void add(std::string_view bytes) {
    text_.append(bytes);
    if (text_.size() > 8192) text_.erase(0, text_.size() - 4096);
  }
  // eval_count of the last JSON line, 0 when there is none.
  uint64_t eval_count() const {
    std::string_view t = text_;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
    auto nl = t.rfind('\n');
    if (nl != std::string_view::npos) t.remove_prefix(nl + 1);
    if (t.find("\"eval_count\"") == std::string_view::npos) return 0;
    boost::system::error_code ec;
    auto v = boost::json::parse(t, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* n = o ? o->if_contains("eval_count") : nullptr;
    return n && n->is_number() ? n->to_number<uint64_t>(ec) : 0;
  }

private:
  std::string text_;
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

awaitable<Outcome> try_node(Gateway& gw, ReplySink& sink, const cluster::NodeView& node, const Served& served,
                            const Upstream& upstream) {
  using namespace asio::experimental::awaitable_operators;
  const auto& t = gw.settings.timeouts;
  boost::system::error_code addr_ec;
  http::tcp::endpoint ep(asio::ip::make_address(node.ip, addr_ec), node.port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto [cec, conn] = co_await gw.pool.acquire(ep, t.connect);
    if (cec) co_return Outcome{Outcome::Kind::node_failed, "connect: " + cec.message()};

    http::Request up{upstream.method, upstream.target, 11};
    for (const auto& f : upstream.headers) up.set(f.name_string(), f.value());
    up.set(bhttp::field::host, node.host_header);
    up.keep_alive(true);
    up.body() = upstream.body;
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
    if (upstream.method == bhttp::verb::head) parser.skip(true);
    conn->stream.expires_after(t.first_byte);
    // Wait for the node's answer, but stop at once if the requester leaves meanwhile (dropping
    // the upstream connection is what tells the node to stop generating), or if health checks
    // eject the node meanwhile (a frozen machine: nothing was sent to the client yet, so the
    // request fails over as if refused).
    auto first = co_await (bhttp::async_read_header(conn->stream, conn->buffer, parser, use_nothrow) || sink.gone() ||
                           gw.cluster.wait_down(node.index));
    if (first.index() == 1) co_return Outcome{Outcome::Kind::client_gone, "client left"};
    if (first.index() == 2) co_return Outcome{Outcome::Kind::node_failed, "the node was ejected before it replied"};
    auto [hec, hn] = std::get<0>(first);
    if (hec) {
      if (conn->reused && attempt == 0 && hec != boost::beast::error::timeout) continue;
      co_return Outcome{Outcome::Kind::node_failed,
                        hec == boost::beast::error::timeout ? "no reply within the first-byte timeout"
                                                            : "reply: " + hec.message()};
    }
    const int status = parser.get().result_int();
    std::string content_type(parser.get()[bhttp::field::content_type]);
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

    std::optional<std::uint64_t> length;
    if (!parser.chunked() && parser.content_length()) length = *parser.content_length();
    if (co_await sink.begin(status, std::move(content_type), length, served))
      co_return Outcome{Outcome::Kind::client_gone, "client left"};

    char buf[16384];
    std::size_t pieces = 0;
    Tail tail;
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof buf;
      conn->stream.expires_after(t.idle);
      auto [rec, rn] = co_await bhttp::async_read_some(conn->stream, conn->buffer, parser, use_nothrow);
      if (rec == bhttp::error::need_buffer) rec = {};
      std::size_t got = sizeof buf - parser.get().body().size;
      if (got) {
        tail.add(std::string_view(buf, got));
        if (co_await sink.data(std::string_view(buf, got))) co_return Outcome{Outcome::Kind::client_gone, "client left"};
        ++pieces;
      }
      if (rec) {
        std::string why = rec == boost::beast::error::timeout ? "no data within the idle timeout" : rec.message();
        co_await sink.broke(fmt::format("node {} failed mid-stream: {}", node.id, why));
        co_return Outcome{Outcome::Kind::failed_mid_stream, why};
      }
    }
    co_await sink.end();
    if (parser.get().keep_alive()) gw.pool.release(ep, std::move(conn));
    const auto done_at = std::chrono::steady_clock::now();
    observe(*node.live, sent_at, first_byte_at, done_at, pieces);
    Outcome served(Outcome::Kind::served);
    served.ttft_ms = std::chrono::duration<double, std::milli>(first_byte_at - sent_at).count();
    served.total_ms = std::chrono::duration<double, std::milli>(done_at - sent_at).count();
    served.eval_count = tail.eval_count();
    co_return served;
  }
  co_return Outcome{Outcome::Kind::node_failed, "connection closed"};
}

}  // namespace

Upstream upstream_of(const http::Request& request) {
  Upstream u;
  u.method = request.method();
  u.target = std::string(request.target());
  for (const auto& f : request)
    if (!hop_by_hop(f.name(), f.name_string())) u.headers.set(f.name_string(), f.value());
  u.body = request.body();
  return u;
}

awaitable<std::optional<Served>> relay(Gateway& gw, ReplySink& sink, std::shared_ptr<const cluster::Snapshot> snapshot,
                                       const routing::Decision& decision, RelayOptions options) {
  if (!decision.ok()) {
    co_await sink.fail(decision.error_status, decision.error, 0);
    co_return std::nullopt;
  }
  std::optional<Outcome> declined;
  std::string failures;
  int attempts = 0;
  for (std::size_t index : decision.ranked) {
    if (attempts++ >= gw.settings.max_attempts) break;
    const cluster::NodeView& node = snapshot->nodes[index];
    Served served;
    served.index = index;
    served.node_id = node.id;
    served.node_url = node.url;
    served.reason = decision.reason;
    served.attempt = attempts;
    if (attempts > 1)
      served.reason = fmt::format("{} (attempt {}: earlier nodes failed: {})", decision.reason, attempts, failures);
    Outcome out;
    {
      InFlight guard(gw, node, options.reserved_node == index);
      out = co_await try_node(gw, sink, node, served, options.upstream);
    }
    switch (out.kind) {
      case Outcome::Kind::served:
        served.ttft_ms = out.ttft_ms;
        served.total_ms = out.total_ms;
        served.eval_count = out.eval_count;
        gw.cluster.report_success(index);
        if (options.refresh_after) gw.cluster.request_refresh(index);
        co_return served;
      case Outcome::Kind::client_gone:
        co_return std::nullopt;
      case Outcome::Kind::failed_mid_stream:
        gw.cluster.report_failure(index, out.error);
        co_return std::nullopt;
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
    co_await sink.declined(declined->status, std::move(declined->content_type), std::move(declined->body));
    co_return std::nullopt;
  }
  co_await sink.fail(502, fmt::format("no node could serve the request: {}", failures), 0);
  co_return std::nullopt;
}

}  // namespace hydra::api
