#pragma once
// Child processes for integration tests: started with a piped stdout, read line by line with
// deadlines, and always stopped (SIGTERM, then SIGKILL) when the object goes away.
#include <chrono>
#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <sys/types.h>
#include <vector>

namespace hydra::test {

class Process {
public:
  explicit Process(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Reads stdout until a line satisfies `match` or the deadline passes; returns that line.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds limit);
  void kill_now();  // SIGKILL, like a machine losing power
  void freeze();    // SIGSTOP, like a hung machine: connections are accepted, nothing answers
  void thaw();      // SIGCONT
  // Waits for the process to end by itself; its exit status, or nullopt at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  pid_t pid() const { return pid_; }
  const std::string& stderr_path() const { return stderr_path_; }

private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string pending_;
  std::string stderr_path_;
};

// A memory figure of a process from /proc/PID/status in KiB ("VmRSS", "VmHWM"); -1 if absent.
long status_kib(pid_t pid, const std::string& field);

// Runs a shell command to its end; its exit status (-1 if it did not exit) and what it printed
// (stdout and stderr).
std::pair<int, std::string> run_shell(const std::string& command);
// Prometheus' promtool on a scrape: its exit status and what it said.
std::pair<int, std::string> promtool_check(const std::string& scrape, const std::string& scratch_dir);

// The hydra binary under test (HYDRA_BIN, else the build's).
std::string hydra_binary();

}  // namespace hydra::test
