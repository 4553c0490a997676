// liballoc_count.so: an LD_PRELOAD shim for `make bench` that counts heap allocations of the
// process it is loaded into, so the bench can report allocations per proxied request.
//
// It defines malloc, calloc, realloc, reallocarray, aligned_alloc, posix_memalign, memalign,
// valloc and pvalloc (noexcept, as glibc's headers declare them); each counts one call and
// hands over to glibc's own allocator (the exported __libc_* entry points, so no dlsym()
// bootstrapping). libstdc++'s operator new calls malloc through the PLT, so every `new` is
// counted too (tests/bench/alloc_count_check.cpp proves it). free() is not counted.
//
// The counters live in a 16-byte file named by $HYDRA_ALLOC_COUNTER, mapped shared: two
// little-endian uint64 values, allocation calls and bytes asked for. The bench reads them from
// outside (before and after N requests) while the process runs. Without the variable the shim
// counts in private memory and nothing can read it.
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
}

namespace {

struct Counters {
  std::atomic<uint64_t> calls;
  std::atomic<uint64_t> bytes;
};
static_assert(sizeof(Counters) == 16 && std::atomic<uint64_t>::is_always_lock_free);

Counters early{};  // what was allocated before the file was mapped (start-up)
std::atomic<Counters*> counters{&early};

inline void count(size_t bytes) {
  Counters* c = counters.load(std::memory_order_relaxed);
  c->calls.fetch_add(1, std::memory_order_relaxed);
  c->bytes.fetch_add(bytes, std::memory_order_relaxed);
}

// Runs before the program's own constructors and main(): maps the file and carries over what
// the libraries loaded before it allocated.
__attribute__((constructor)) void map_counters() {
  const char* path = getenv("HYDRA_ALLOC_COUNTER");
  if (path == nullptr || *path == '\0') return;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  void* p = MAP_FAILED;
  if (ftruncate(fd, sizeof(Counters)) == 0)
    p = mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return;
  auto* mapped = static_cast<Counters*>(p);
  mapped->calls.store(early.calls.load());
  mapped->bytes.store(early.bytes.load());
  counters.store(mapped);
}

bool valid_alignment(size_t a) { return a != 0 && (a & (a - 1)) == 0 && a % sizeof(void*) == 0; }

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(size_t size) noexcept {
  count(size);
  return __libc_malloc(size);
}

__attribute__((visibility("default"))) void* calloc(size_t n, size_t size) noexcept {
  count(n * size);
  return __libc_calloc(n, size);
}

// realloc(p, 0) frees; only a call that asks for memory counts.
__attribute__((visibility("default"))) void* realloc(void* p, size_t size) noexcept {
  if (size != 0) count(size);
  return __libc_realloc(p, size);
}

__attribute__((visibility("default"))) void* reallocarray(void* p, size_t n, size_t size) noexcept {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, total);
}

__attribute__((visibility("default"))) void* memalign(size_t alignment, size_t size) noexcept {
  count(size);
  return __libc_memalign(alignment, size);
}

__attribute__((visibility("default"))) void* aligned_alloc(size_t alignment, size_t size) noexcept {
  count(size);
  return __libc_memalign(alignment, size);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (!valid_alignment(alignment)) return EINVAL;
  count(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

__attribute__((visibility("default"))) void* valloc(size_t size) noexcept {
  count(size);
  return __libc_valloc(size);
}

__attribute__((visibility("default"))) void* pvalloc(size_t size) noexcept {
  count(size);
  return __libc_pvalloc(size);
}

}  // extern "C"
