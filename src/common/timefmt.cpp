#include "common/timefmt.hpp"

#include <cstring>

#include <climits>
#include <cstdint>

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

char* put_utc_millis(char* out, WallTime t) {
  using namespace std::chrono;
  const auto since = t.time_since_epoch();
  const auto secs = floor<seconds>(since);
  const auto millis = static_cast<int>(duration_cast<milliseconds>(since - secs).count());
  // One access-log line per request: the date and time to the second are formatted once per
  // second (per thread), the milliseconds by hand.
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char cached[20];  // "2026-12-03T21:30:00"
  if (secs.count() != cached_second) {
    const std::time_t tt = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    gmtime_r(&tt, &tm);
    fmt::format_to_n(cached, sizeof cached, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = secs.count();
  }
  std::memcpy(out, cached, sizeof cached - 1);
  out += sizeof cached - 1;
  *out++ = '.';
  *out++ = static_cast<char>('0' + millis / 100);
  *out++ = static_cast<char>('0' + millis / 10 % 10);
  *out++ = static_cast<char>('0' + millis % 10);
  *out++ = 'Z';
  return out;
}

void append_utc_millis(std::string& out, WallTime t) {
  char buf[kUtcMillisSize];
  out.append(buf, put_utc_millis(buf, t));
}

}  // namespace hydra
