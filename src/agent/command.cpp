#include "agent/command.hpp"

#include "agent/child_spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace hydra::agent {

namespace {

using Clock = std::chrono::steady_clock;

int millis_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for the child until the deadline; false if it is still running then.
bool reap(pid_t pid, Clock::time_point deadline, int& status) {
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // already reaped elsewhere: nothing to wait for
    if (Clock::now() >= deadline) return false;
    // The child closed stdout but has not exited yet: a short poll of its exit is all that's left.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

std::optional<std::string> find_program(std::string_view name, std::string_view search_path) {
  if (name.find('/') != std::string_view::npos) {
    std::string p(name);
    return access(p.c_str(), X_OK) == 0 ? std::optional(p) : std::nullopt;
  }
  while (true) {
    auto colon = search_path.find(':');
    std::string_view dir = search_path.substr(0, colon);
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + std::string(name);
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    search_path.remove_prefix(colon + 1);
  }
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          std::size_t max_output) {
  CommandResult result;
  if (argv.empty()) {
    result.error = "no command";
    return result;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  // Its own process group, so that a timeout kills what it started too.
  ChildSpawn spawn(/*own_group=*/true);
  if (!spawn.ok()) {
    close(fds[0]);
    close(fds[1]);
    result.error = "posix_spawn attributes: out of memory";
    return result;
  }
  posix_spawn_file_actions_adddup2(&spawn.actions(), fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&spawn.actions(), STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&spawn.actions(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  spawn.close_rest();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &spawn.actions(), spawn.attr(), args.data(), environ);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    result.error = argv[0] + ": " + std::strerror(rc);
    return result;
  }
  result.started = true;
  auto deadline = Clock::now() + timeout;
  bool eof = false;
  char buf[4096];
  while (!eof) {
    int left = millis_left(deadline);
    if (left == 0) break;
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      eof = true;
      break;
    }
    std::size_t room = max_output > result.out.size() ? max_output - result.out.size() : 0;
    result.out.append(buf, std::min(room, static_cast<std::size_t>(got)));
  }
  close(fds[0]);
  int status = 0;
  if (!eof || !reap(pid, deadline, status)) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.timed_out = true;
    result.error = argv[0] + ": no answer within " + std::to_string(timeout.count()) + " ms; killed";
    return result;
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    if (result.exit_code == 127 && result.out.empty()) result.error = argv[0] + ": could not be executed";
  } else if (WIFSIGNALED(status)) {
    result.error = argv[0] + ": killed by signal " + std::to_string(WTERMSIG(status));
  }
  return result;
}

}  // namespace hydra::agent
