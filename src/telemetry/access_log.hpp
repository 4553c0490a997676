#pragma once
// The access log (log.access, log.access_file): one line per request the API answered, text
// (key=value pairs) or JSON, on stderr or appended to a file opened with O_APPEND. Threads
// write without a lock: a line at once, or a thread's batch of lines (AccessBatch) in writes
// that never split a line. SIGHUP reopens the file (after logrotate moved it).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::telemetry {

enum class AccessFormat { off, text, json };
std::optional<AccessFormat> parse_access_format(std::string_view text);  // "off", "text", "json"

// What one line says. The handlers fill in what they learn as the request is served (the
// API's guard owns it: http::Exchange::log_context); the guard adds the rest at the end.
struct AccessEntry {
  std::chrono::system_clock::time_point at;  // when the reply ended
  // Views of what the exchange holds (the guard writes the line before the exchange ends).
  std::string_view request_id;
  std::string_view client;  // the peer's address
  std::string key;          // the API key's name; empty with no keys
  std::string_view method;
  std::string_view route;   // the path, without the query
  std::string model;   // empty: not a model request
  std::string node;    // the node that served, or was last tried
  int status = 0;      // the reply's status; 499: the client left before one; 0: none
  std::string outcome; // model requests: served, failed, rejected, unroutable, abandoned, cached
  int attempts = 0;
  double queued_ms = -1;    // < 0: not a model request
  double ttfb_ms = -1;      // a node's first byte after arrival; < 0: unknown
  double duration_ms = 0;
  int64_t tokens_in = -1;   // < 0: unknown
  int64_t tokens_out = -1;
  std::string cache;        // "hit; tier=l1", "miss", "bypass"...; empty: not asked
};

// The line, newline included.
std::string format_access(const AccessEntry& e, AccessFormat format);

class AccessBatch;

class AccessLog {
public:
  AccessLog();
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Start-up: `path` empty: stderr. Returns an error message, empty on success.
  std::string open(AccessFormat format, std::string path);
  bool enabled() const { return format_ != AccessFormat::off; }
  // Any thread: the line, written at once.
  void write(const AccessEntry& e) const;
  // Any thread: the line into `batch` (one per thread), which writes its lines together.
  void add(const AccessEntry& e, AccessBatch& batch) const;
  // SIGHUP: the file again at its path (a no-op for stderr). Returns an error message.
  std::string reopen();

  // The descriptor, shared with the batches holding lines for it: it outlives this log until
  // they are written.
  struct Target;

private:
  AccessFormat format_ = AccessFormat::off;
  std::string path_;
  std::shared_ptr<Target> target_;  // its fd: 2 for stderr; a reopen replaces the file under that number (dup2)
};

// One thread's lines not yet written, for one log at a time: write() puts them out in as few
// write(2) calls as it can, each at most PIPE_BUF bytes and ending at a line's end (O_APPEND
// places each whole; on a pipe, writes that size are never interleaved with other threads').
// Written when destroyed too. One write for many lines: a system call per request was a
// measurable part of a small request's cost.
class AccessBatch {
public:
  AccessBatch() = default;
  ~AccessBatch() { write(); }
  AccessBatch(const AccessBatch&) = delete;
  AccessBatch& operator=(const AccessBatch&) = delete;

  void write();

private:
  friend class AccessLog;
  std::shared_ptr<AccessLog::Target> target_;
  std::string lines_;
};

}  // namespace hydra::telemetry
