// ctest bench.alloc_count: runs with bench/alloc_count.cpp preloaded (LD_PRELOAD) and its
// counter file in $HYDRA_ALLOC_COUNTER. Reads the counter the way the bench does (a shared
// mapping of the file), makes a known number of allocations of every kind, and checks that
// each was counted exactly once: operator new included, which reaches malloc through the PLT.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <fcntl.h>
#include <malloc.h>
#include <new>
#include <sys/mman.h>
#include <unistd.h>

namespace {

void* volatile sink;  // keeps the compiler from eliding an allocation it can see unused

const volatile uint64_t* map_counter(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  void* p = mmap(nullptr, 16, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  return p == MAP_FAILED ? nullptr : static_cast<const volatile uint64_t*>(p);
}

int fail(const char* what, uint64_t got, uint64_t want) {
  std::fprintf(stderr, "alloc_count_check: %s: counted %llu, expected %llu\n", what,
               static_cast<unsigned long long>(got), static_cast<unsigned long long>(want));
  return 1;
}

}  // namespace

int main() {
  const char* path = std::getenv("HYDRA_ALLOC_COUNTER");
  if (path == nullptr || std::getenv("LD_PRELOAD") == nullptr) {
    std::fprintf(stderr, "alloc_count_check: run with LD_PRELOAD=liballoc_count.so and HYDRA_ALLOC_COUNTER set\n");
    return 2;
  }
  const volatile uint64_t* counter = map_counter(path);
  if (counter == nullptr) return fail("the counter file is not there", 0, 1);
  if (counter[0] == 0) return fail("start-up allocations", 0, 1);

  constexpr int n = 100;
  struct Step {
    const char* name;
    void (*run)();
  };
  const Step steps[] = {
      {"operator new", [] { for (int i = 0; i < n; ++i) { sink = new int(i); delete static_cast<int*>(sink); } }},
      {"operator new[]", [] { for (int i = 0; i < n; ++i) { sink = new char[64]; delete[] static_cast<char*>(sink); } }},
      {"aligned operator new", [] {
         for (int i = 0; i < n; ++i) {
           sink = ::operator new(64, std::align_val_t{64});
           ::operator delete(sink, std::align_val_t{64});
         }
       }},
      {"malloc", [] { for (int i = 0; i < n; ++i) { sink = std::malloc(32); std::free(sink); } }},
      {"calloc", [] { for (int i = 0; i < n; ++i) { sink = std::calloc(4, 8); std::free(sink); } }},
      {"realloc", [] {
         for (int i = 0; i < n; ++i) {
           void* p = std::realloc(nullptr, 16);  // counted
           p = std::realloc(p, 4096);            // counted
           sink = std::realloc(p, 0);            // frees: not counted
         }
       }},
      {"aligned_alloc", [] { for (int i = 0; i < n; ++i) { sink = std::aligned_alloc(64, 128); std::free(sink); } }},
      {"posix_memalign", [] {
         for (int i = 0; i < n; ++i) {
           void* p = nullptr;
           if (posix_memalign(&p, 64, 128) == 0) sink = p;
           std::free(p);
         }
       }},
      {"memalign", [] { for (int i = 0; i < n; ++i) { sink = memalign(64, 128); std::free(sink); } }},
  };
  const uint64_t per_step[] = {n, n, n, n, n, 2 * n, n, n, n};
  for (std::size_t i = 0; i < std::size(steps); ++i) {
    uint64_t before = counter[0];
    steps[i].run();
    uint64_t got = counter[0] - before;
    if (got != per_step[i]) return fail(steps[i].name, got, per_step[i]);
  }
  // Bytes asked for: the second counter.
  uint64_t bytes_before = counter[1];
  sink = std::malloc(1000);
  std::free(sink);
  if (counter[1] - bytes_before != 1000) return fail("bytes of malloc(1000)", counter[1] - bytes_before, 1000);
  std::puts("alloc_count_check: every kind of allocation counted once");
  return 0;
}
