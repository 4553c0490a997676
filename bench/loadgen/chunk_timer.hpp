#pragma once
// Times the lines of one NDJSON reply body as its bytes arrive: when the first complete line
// (chunk) arrived, and the gap before each later one. Lines split across reads are timed at
// the read that completes them; lines that arrive in one read share its time (a gap of 0),
// which is what a client reading the socket would see. Pure: the caller passes the times.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

class ChunkTimer {
 public:
  using Nanos = std::chrono::nanoseconds;

  // Bytes of the body that arrived at `at` (an offset from any fixed origin).
  void feed(std::string_view bytes, Nanos at);
  // The body ended at `at`: a last line without '\n' counts as a chunk.
  void finish(Nanos at);

  std::size_t lines() const { return lines_; }
  std::optional<Nanos> first_at() const { return first_; }
  const std::vector<int64_t>& gaps() const { return gaps_; }  // nanoseconds between lines
  // Ollama's stream ends with a line that has "done":true, or an {"error":...} line.
  bool saw_done() const { return done_; }
  bool saw_error() const { return error_; }
  // Hydra's final chunk of a stream it continued on another node: "hydra":{"continued":[...]}.
  bool saw_continued() const { return continued_; }
  // The longest gap between two lines: for a continued stream, the wait at the switch.
  int64_t longest_gap() const;

 private:
  void line_complete(Nanos at);

  std::string partial_;  // the current line so far (only its start is kept: see feed)
  std::size_t lines_ = 0;
  std::optional<Nanos> first_;
  Nanos last_{0};
  std::vector<int64_t> gaps_;
  bool done_ = false, error_ = false, continued_ = false;
  bool pending_ = false;  // bytes of an unfinished line were seen
};

}  // namespace loadgen
