#pragma once
// Names the calling thread as `top -H`, `ps -L` and /proc/PID/task/TID/comm show it (Linux
// keeps at most 15 bytes; longer names are cut). The gateway's main thread keeps the process's
// name ("hydra"); the threads it starts name themselves: hydra-w1.. (workers), hydra-redis,
// hydra-sqlite, hydra-sampler.
#include <string_view>

namespace hydra {

void name_this_thread(std::string_view name);

}  // namespace hydra
