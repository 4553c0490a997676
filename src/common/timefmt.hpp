#pragma once
// Timestamps in the shapes Ollama uses (RFC 3339 with nanoseconds, UTC).
#include "common/clock.hpp"
#include <string>

namespace hydra {
std::string rfc3339(WallTime t);
}
