#pragma once
// A load-generator run: workers (one connection each) take requests from a Schedule, send
// them to the targets and record what happened. Single-threaded (one io_context): on a small
// machine the load generator should take as little CPU from the servers it measures as it can.
#include "schedule.hpp"
#include "target.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loadgen {

struct Options {
  std::vector<Target> targets;   // worker k uses targets[k % size]
  std::string method = "POST";
  std::string body;               // "{seq}" in it becomes each request's number (distinct bodies);
                                  // "{half}" the number halved (each body twice in a row)
  bool stream = false;           // the reply is an Ollama NDJSON stream that must end with done/error
  bool open_loop = false;
  double rate = 0;               // open loop: requests per second
  int concurrency = 1;           // closed loop: requests in flight; open loop: connections available
  Nanos duration{std::chrono::seconds(5)};
  Nanos warmup{0};               // requests due before this are sent but not recorded
  Nanos ramp{0};                 // closed loop: worker k starts at ramp * k / concurrency
  Nanos timeout{std::chrono::seconds(30)};  // per request, from when it is sent
  std::vector<uint32_t> sources; // client source IPv4 addresses (host order); worker k uses [k % size]
  Nanos timeline_bucket{0};      // > 0: also report counts per bucket of due time
};

// One request as the timeline sees it (offsets from the run's start).
struct Record {
  int64_t due = 0, end = 0;
  int64_t ttfc = -1;  // first body line - due; -1 when none came
  bool ok = false;
};

struct Results {
  // Of recorded requests (due after the warm-up) that succeeded, in nanoseconds.
  std::vector<int64_t> latency;  // end - due: includes any wait for a free worker (open loop)
  std::vector<int64_t> ttfc;     // first body line - due
  std::vector<int64_t> gaps;     // between consecutive body lines
  std::vector<int64_t> switch_gaps;  // streams Hydra continued on another node: their longest gap
  std::vector<Record> records;   // every recorded request
  std::map<std::string, uint64_t> errors;  // by kind: connect, write, read, timeout, http_NNN, stream_error, stream_incomplete
  uint64_t sent = 0, ok = 0, chunks = 0;
  uint64_t ok_in_window = 0;     // successes that ended inside [warmup, warmup + duration]
  double elapsed_s = 0;          // wall time of the whole run, drain included
  int64_t started_unix_ms = 0;   // the run's time origin on the wall clock (to line up outside events)
};

// Runs to completion: every request due before warmup + duration is sent and awaited (or
// times out). Exceptions only for start-up problems (unresolvable target).
Results run(const Options& options);

}  // namespace loadgen
