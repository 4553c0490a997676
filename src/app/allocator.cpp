#include "app/allocator.hpp"

#include <cstddef>

// jemalloc's control interface, declared weak: absent (null) in a build without jemalloc.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp, std::size_t newlen)
    __attribute__((weak));

namespace hydra::app {

bool return_memory_in_background() {
  if (mallctl == nullptr) return false;
  // One such thread for the whole process (jemalloc's default is one per core): what it does is
  // little, and another thread to schedule on a machine of few cores is not.
  std::size_t one = 1;
  if (mallctl("max_background_threads", nullptr, nullptr, &one, sizeof one) != 0) return false;
  bool enable = true;
  return mallctl("background_thread", nullptr, nullptr, &enable, sizeof enable) == 0;
}

}  // namespace hydra::app
