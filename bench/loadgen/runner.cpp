#include "runner.hpp"

#include "chunk_timer.hpp"
#include "connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace loadgen {

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct Run {
  const Options& options;
  Schedule schedule;
  Clock::time_point origin;
  std::vector<tcp::endpoint> endpoints;  // per target
  std::vector<std::string> requests;     // prebuilt, per target
  Results results;
  uint64_t next_seq = 0;                 // "{seq}" in the body: the next request's number

  Nanos now() const { return Clock::now() - origin; }
};

// What a worker's timeout timer needs after the worker may be gone: shared, so a timer
// handler queued just before the worker ended still touches live memory.
struct WorkerState {
  explicit WorkerState(Connection c) : connection(std::move(c)) {}
  Connection connection;
  uint64_t generation = 0;  // bumps per exchange, so a late timeout cannot hit the next one
  bool timed_out = false;
};

struct OnTimeout {
  std::shared_ptr<WorkerState> state;
  uint64_t generation;
  void operator()(const boost::system::error_code& ec) const {
    if (ec || state->generation != generation) return;
    state->timed_out = true;
    state->connection.abort();
  }
};

std::string error_kind(const Outcome& o, const WorkerState& w, const ChunkTimer& t, bool stream) {
  if (w.timed_out) return "timeout";
  if (!o.error.empty()) return std::string(o.error);
  if (o.status < 200 || o.status > 299) return "http_" + std::to_string(o.status);
  if (stream && t.saw_error()) return "stream_error";
  if (stream && !t.saw_done()) return "stream_incomplete";
  return {};
}

void record(Run& run, Nanos due, Nanos end, const std::string& error, const ChunkTimer& timer) {
  auto& r = run.results;
  const auto& o = run.options;
  if (due < o.warmup) return;
  ++r.sent;
  bool ok = error.empty();
  auto first = timer.first_at();
  r.records.push_back({due.count(), end.count(), first ? (*first - due).count() : -1, ok});
  if (!ok) {
    ++r.errors[error];
    return;
  }
  ++r.ok;
  if (end >= o.warmup && end <= o.warmup + o.duration) ++r.ok_in_window;
  r.latency.push_back((end - due).count());
  if (first) r.ttfc.push_back((*first - due).count());
  r.gaps.insert(r.gaps.end(), timer.gaps().begin(), timer.gaps().end());
  if (timer.saw_continued()) r.switch_gaps.push_back(timer.longest_gap());
  r.chunks += timer.lines();
}

asio::awaitable<void> worker(Run& run, std::size_t k) {
  const auto& o = run.options;
  auto ex = co_await asio::this_coro::executor;
  std::optional<asio::ip::address_v4> source;
  if (!o.sources.empty()) source = asio::ip::address_v4(o.sources[k % o.sources.size()]);
  std::size_t t = k % o.targets.size();
  auto state = std::make_shared<WorkerState>(Connection(ex, run.endpoints[t], source));
  asio::steady_timer wait(ex), deadline(ex);
  if (!o.open_loop && o.ramp.count() > 0) {
    wait.expires_at(run.origin + o.ramp * static_cast<int64_t>(k) / o.concurrency);
    co_await wait.async_wait(nothrow);
  }
  for (;;) {
    auto due = run.schedule.claim(run.now());
    if (!due) break;
    if (*due > run.now()) {
      wait.expires_at(run.origin + *due);
      co_await wait.async_wait(nothrow);
    }
    ChunkTimer timer;
    state->timed_out = false;
    deadline.expires_after(o.timeout);
    deadline.async_wait(OnTimeout{state, state->generation});
    const std::string* request = &run.requests[t];
    std::string varied;
    // "{seq}": a body of its own; "{half}": each body twice in a row (half the requests repeat).
    std::size_t at = o.body.find("{seq}"), len = 5;
    uint64_t per = 1;
    if (at == std::string::npos) at = o.body.find("{half}"), len = 6, per = 2;
    if (at != std::string::npos) {
      std::string body = o.body;
      body.replace(at, len, std::to_string(run.next_seq++ / per));
      varied = build_request(o.targets[t], o.method, body);
      request = &varied;
    }
    Outcome outcome = co_await state->connection.exchange(*request, timer, run.origin);
    Nanos end = run.now();
    ++state->generation;
    deadline.cancel();
    record(run, *due, end, error_kind(outcome, *state, timer, o.stream), timer);
  }
  state->connection.abort();
}

}  // namespace

Results run(const Options& options) {
  asio::io_context ioc(1);
  Nanos end = options.warmup + options.duration;
  Run run{options,
          options.open_loop ? Schedule::open_loop(options.rate, end) : Schedule::closed_loop(end),
          {}, {}, {}, {}, 0};
  tcp::resolver resolver(ioc);
  for (const auto& t : options.targets) {
    auto found = resolver.resolve(t.host, std::to_string(t.port));  // start-up: may throw
    run.endpoints.push_back(found.begin()->endpoint());
    run.requests.push_back(build_request(t, options.method, options.body));
  }
  run.results.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
  run.origin = Clock::now();
  for (std::size_t k = 0; k < static_cast<std::size_t>(options.concurrency); ++k)
    asio::co_spawn(ioc, worker(run, k), asio::detached);
  ioc.run();
  run.results.elapsed_s = std::chrono::duration<double>(Clock::now() - run.origin).count();
  return std::move(run.results);
}

}  // namespace loadgen
