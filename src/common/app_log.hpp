#pragma once
// The application log (spdlog's default logger) in one of two shapes, chosen by log.format:
//   text: 2026-12-03T21:30:00.123Z warn node 10.0.0.5:11434 failed ... request_id=3f2a...
//   json: {"time":"2026-12-03T21:30:00.123Z","level":"warn","logger":"hydra","msg":"...","request_id":"3f2a..."}
// A line about one request names its id: a LogRequestScope around the (synchronous) log call.
#include <string>
#include <string_view>

namespace hydra {

enum class LogFormat { text, json };

// Installs a stderr logger named `name` as spdlog's default, at `level` ("info", ...).
void configure_app_log(const std::string& name, const std::string& level, LogFormat format);

// Appends `text` to `out` as the inside of a JSON string (quotes, backslashes and control
// characters escaped; bytes >= 0x80 kept as they are).
void append_json_escaped(std::string& out, std::string_view text);

// While alive, lines logged on this thread carry `request_id`. Never across a co_await.
class LogRequestScope {
public:
  explicit LogRequestScope(std::string_view request_id);
  ~LogRequestScope();
  LogRequestScope(const LogRequestScope&) = delete;
  LogRequestScope& operator=(const LogRequestScope&) = delete;

private:
  std::string_view previous_;
};

}  // namespace hydra
