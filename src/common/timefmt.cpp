#include "common/timefmt.hpp"

#include <ctime>
#include <fmt/format.h>

namespace hydra {

std::string rfc3339(WallTime t) {
  using namespace std::chrono;
  auto since = t.time_since_epoch();
  auto secs = duration_cast<seconds>(since);
  auto nanos = duration_cast<nanoseconds>(since - secs).count();
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= seconds(1);
  }
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
}

void append_utc_millis(std::string& out, WallTime t) {
  using namespace std::chrono;
  const auto since = t.time_since_epoch();
  const auto secs = floor<seconds>(since);
  const auto millis = duration_cast<milliseconds>(since - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace hydra
