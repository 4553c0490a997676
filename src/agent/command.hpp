#pragma once
// Running a helper program (nvidia-smi, rocm-smi) without a shell, its stdout captured, bounded
// by a timeout: a program that hangs is killed with its process group. Blocking: call it
// from the collector thread, never from the io_context thread. No exceptions.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::agent {

struct CommandResult {
  bool started = false;    // false: could not be spawned (see `error`)
  bool timed_out = false;  // killed after the timeout
  int exit_code = -1;      // exit status; -1 when killed by a signal or not started
  std::string out;         // stdout (capped at `max_output` bytes)
  std::string error;       // why it did not start, for warnings

  bool ok() const { return started && !timed_out && exit_code == 0; }
};

// argv[0] must be a path (see find_program). stderr goes to /dev/null.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          std::size_t max_output = 1u << 20);

// The first executable `name` in the ':'-separated `search_path` (like execvp's PATH lookup).
std::optional<std::string> find_program(std::string_view name, std::string_view search_path);

}  // namespace hydra::agent
