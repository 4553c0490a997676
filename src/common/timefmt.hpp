#pragma once
// Timestamps in the shapes Ollama uses (RFC 3339 with nanoseconds, UTC).
#include "common/clock.hpp"
#include <string>

namespace hydra {
std::string rfc3339(WallTime t);
// "2026-12-03T21:30:00.123Z" (milliseconds), appended to `out`: the logs' time stamps.
void append_utc_millis(std::string& out, WallTime t);
inline constexpr std::size_t kUtcMillisSize = 24;
char* put_utc_millis(char* out, WallTime t);  // the same into kUtcMillisSize bytes at `out`
}
