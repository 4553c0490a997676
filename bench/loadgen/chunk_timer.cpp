#include "chunk_timer.hpp"

#include <algorithm>

namespace loadgen {

namespace {
// A final chunk is small; keeping at most this much of a line bounds memory on huge lines
// while still seeing the keys Ollama puts first ("error") or early enough ("done").
constexpr std::size_t kKeep = 4096;
}  // namespace

void ChunkTimer::feed(std::string_view bytes, Nanos at) {
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    auto piece = bytes.substr(0, nl);
    if (partial_.size() < kKeep) partial_.append(piece.substr(0, kKeep - partial_.size()));
    if (!piece.empty()) pending_ = true;
    if (nl == std::string_view::npos) return;
    line_complete(at);
    bytes.remove_prefix(nl + 1);
  }
}

int64_t ChunkTimer::longest_gap() const {
  int64_t most = 0;
  for (int64_t g : gaps_) most = std::max(most, g);
  return most;
}

void ChunkTimer::finish(Nanos at) {
  if (pending_) line_complete(at);
}

void ChunkTimer::line_complete(Nanos at) {
  if (pending_) {  // blank lines are not chunks
    if (first_) gaps_.push_back((at - last_).count());
    else first_ = at;
    last_ = at;
    ++lines_;
    // Compact JSON from Ollama, but tolerate a space after the colon.
    done_ = partial_.find("\"done\":true") != std::string::npos || partial_.find("\"done\": true") != std::string::npos;
    if (partial_.starts_with("{\"error\"")) error_ = true;
    if (done_ && partial_.find("\"hydra\":{\"continued\"") != std::string::npos) continued_ = true;
  }
  partial_.clear();
  pending_ = false;
}

}  // namespace loadgen
