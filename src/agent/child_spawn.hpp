#pragma once
// What every process the agent starts (a probe command, llama-server) gets, whatever hydra
// itself has set up: the default handling of SIGPIPE and SIGHUP (hydra ignores both, and an
// ignored signal stays ignored across exec), and none of hydra's descriptors above stderr
// (Asio's sockets are not close-on-exec: a llama-server would hold the agent's listening
// socket and its clients' connections for as long as it runs).
#include <csignal>
#include <spawn.h>

namespace hydra::agent {

class ChildSpawn {
public:
  // `own_group`: the child leads a process group of its own (so that a timeout can end
  // everything it started).
  explicit ChildSpawn(bool own_group) {
    ok_ = posix_spawnattr_init(&attr_) == 0;
    if (!ok_) return;
    ok_ = posix_spawn_file_actions_init(&actions_) == 0;
    if (!ok_) {
      posix_spawnattr_destroy(&attr_);
      return;
    }
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGHUP);
    short flags = POSIX_SPAWN_SETSIGDEF;
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    if (own_group) {
      posix_spawnattr_setpgroup(&attr_, 0);
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr_, flags);
  }
  ~ChildSpawn() {
    if (!ok_) return;
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  ChildSpawn(const ChildSpawn&) = delete;
  ChildSpawn& operator=(const ChildSpawn&) = delete;

  bool ok() const { return ok_; }  // false: out of memory, spawn nothing
  posix_spawn_file_actions_t& actions() { return actions_; }  // add redirections, then close_rest()
  // Closes every descriptor from 3 up in the child: after the redirections added before it.
  void close_rest() {
    if (ok_) posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
  }
  const posix_spawnattr_t* attr() const { return &attr_; }

private:
  bool ok_ = false;
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace hydra::agent
