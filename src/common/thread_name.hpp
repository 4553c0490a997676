#pragma once
// Names the calling thread as `top -H`, `ps -L` and /proc/PID/task/TID/comm show it (Linux
// keeps at most 15 bytes; longer names are cut). The gateway's main thread keeps the process's
// name ("hydra"); the threads it starts name themselves: hydra-w1.. (workers), hydra-redis,
// hydra-sqlite, hydra-sampler.
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace hydra {

void name_this_thread(std::string_view name);

// A thread that names itself `name`, then runs `f`.
template <class F>
std::thread named_thread(std::string name, F f) {
  return std::thread([name = std::move(name), f = std::move(f)]() mutable {
    name_this_thread(name);
    f();
  });
}

}  // namespace hydra
