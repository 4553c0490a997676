#pragma once
// The access log (log.access, log.access_file): one line per request the API answered, text
// (key=value pairs) or JSON, on stderr or appended to a file. Each line goes out in one
// write(2) to a descriptor opened with O_APPEND, so worker threads write without a lock and
// lines never interleave. SIGHUP reopens the file (after logrotate moved it).
#include <atomic>
#include <chrono>
#include <cstdint>
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
  std::string request_id;
  std::string client;  // the peer's address
  std::string key;     // the API key's name; empty with no keys
  std::string method;
  std::string route;   // the path, without the query
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

class AccessLog {
public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Start-up: `path` empty: stderr. Returns an error message, empty on success.
  std::string open(AccessFormat format, std::string path);
  bool enabled() const { return format_ != AccessFormat::off; }
  // Any thread.
  void write(const AccessEntry& e) const;
  // SIGHUP: the file again at its path (a no-op for stderr). Returns an error message.
  std::string reopen();

private:
  AccessFormat format_ = AccessFormat::off;
  std::string path_;
  int fd_ = -1;  // 2 for stderr; a reopen replaces the file under this number (dup2)
  mutable std::atomic<uint64_t> failed_{0};
};

}  // namespace hydra::telemetry
