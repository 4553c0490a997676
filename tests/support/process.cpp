#include "support/process.hpp"

#include <fstream>

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace hydra::test {

std::string hydra_binary() {
  if (const char* bin = std::getenv("HYDRA_BIN")) return bin;
#ifdef HYDRA_BIN_PATH
  return HYDRA_BIN_PATH;
#else
  return "build/hydra";
#endif
}

Process::Process(std::vector<std::string> argv, std::vector<std::string> env) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  char tmpl[] = "/tmp/hydra-test-stderr-XXXXXX";
  int err_fd = mkstemp(tmpl);
  stderr_path_ = tmpl;
  std::vector<std::string> full_env;
  for (char** e = environ; *e; ++e) full_env.emplace_back(*e);
  full_env.insert(full_env.end(), env.begin(), env.end());
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // Gone with the test: a test process killed before its destructors ran (ctest's timeout)
    // leaves no gateway or sim running. (Tests start processes from their own thread, the one
    // the signal follows.)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    // Default signal handling, whatever the test runner inherited (an ignored SIGPIPE would
    // hide a gateway that forgets to ignore it itself).
    std::signal(SIGPIPE, SIG_DFL);
    std::signal(SIGHUP, SIG_DFL);
    std::vector<char*> args, envp;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : full_env) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(pipefd[1]);
  close(err_fd);
  out_fd_ = pipefd[0];
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
}

Process::~Process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);  // a frozen process would not act on SIGTERM
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 300 && !gone; ++i) {  // up to 3 s, then force
      gone = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Process::freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void Process::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void Process::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::optional<std::string> Process::wait_for_line(const std::function<bool(const std::string&)>& match,
                                                  std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (match(line)) return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n == 0) return std::nullopt;  // the process closed stdout (exited)
    if (n > 0) pending_.append(buf, static_cast<size_t>(n));
  }
}

long status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  return -1;
}

std::pair<int, std::string> run_shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::pair<int, std::string> promtool_check(const std::string& scrape, const std::string& scratch_dir) {
  const std::string path = scratch_dir + "/scrape.txt";
  std::ofstream(path) << scrape;
  return run_shell("command -v promtool >/dev/null || { echo 'promtool missing: run scripts/install-deps.sh'; exit 99; }; "
                   "promtool check metrics < " + path);
}

}  // namespace hydra::test
