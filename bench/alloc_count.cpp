// liballoc_count.so: an LD_PRELOAD shim for `make bench` that counts heap allocations of the
// process it is loaded into, so the bench can report allocations per proxied request.
//
// It defines malloc, calloc, realloc, reallocarray, aligned_alloc, posix_memalign, memalign,
// valloc and pvalloc (noexcept, as glibc's headers declare them); each counts one call and
// hands over to the allocator the process would have used without it: the next definition in
// the lookup order (dlsym RTLD_NEXT), which is jemalloc for `hydra` (it links it) and glibc's
// for the rest. free() is defined too, only to hand over (and to ignore the few blocks given out
// from a static buffer while those entry points are looked up: dlsym may allocate). It is not
// counted. operator new (plain, array, nothrow, aligned) is defined as well: jemalloc has its
// own, which does not call malloc; libstdc++'s does, and the malloc inside a counted new is not
// counted again (tests/bench/alloc_count_check.cpp proves every `new` counts once).
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
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <new>
#include <sys/mman.h>
#include <unistd.h>

namespace {

struct Counters {
  std::atomic<uint64_t> calls;
  std::atomic<uint64_t> bytes;
};
static_assert(sizeof(Counters) == 16 && std::atomic<uint64_t>::is_always_lock_free);

Counters early{};  // what was allocated before the file was mapped (start-up)
std::atomic<Counters*> counters{&early};

thread_local bool in_new = false;  // a counted operator new is under way on this thread

inline void count(size_t bytes) {
  if (in_new) return;
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

// The allocator underneath, looked up once.
struct Next {
  void* (*malloc)(size_t);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void (*free)(void*);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  // operator new: plain, array, nothrow, aligned
  void* (*new_plain)(size_t);
  void* (*new_array)(size_t);
  void* (*new_plain_nothrow)(size_t, const std::nothrow_t&);
  void* (*new_array_nothrow)(size_t, const std::nothrow_t&);
  void* (*new_plain_aligned)(size_t, std::align_val_t);
  void* (*new_array_aligned)(size_t, std::align_val_t);
};
Next next{};
std::atomic<int> looked_up{0};  // 0: not yet, 1: under way, 2: done

// While the lookup runs (dlsym may allocate), blocks come from here; zeroed, never reused.
alignas(64) char boot[64 * 1024];
std::atomic<size_t> boot_used{0};

void* boot_alloc(size_t size, size_t alignment = 16) {
  size = (size + 63) & ~size_t{63};
  if (alignment > 64) return nullptr;
  const size_t at = boot_used.fetch_add(size);
  return at + size <= sizeof boot ? boot + at : nullptr;
}

bool in_boot(const void* p) {
  return static_cast<const char*>(p) >= boot && static_cast<const char*>(p) < boot + sizeof boot;
}

template <class F>
void find(F& f, const char* name) {
  f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

bool ready() {
  if (looked_up.load(std::memory_order_acquire) == 2) return true;
  int expected = 0;
  if (!looked_up.compare_exchange_strong(expected, 1)) return false;  // another call is looking
  Next n{};
  find(n.malloc, "malloc");
  find(n.calloc, "calloc");
  find(n.realloc, "realloc");
  find(n.free, "free");
  find(n.memalign, "memalign");
  find(n.valloc, "valloc");
  find(n.pvalloc, "pvalloc");
  find(n.new_plain, "_Znwm");
  find(n.new_array, "_Znam");
  find(n.new_plain_nothrow, "_ZnwmRKSt9nothrow_t");
  find(n.new_array_nothrow, "_ZnamRKSt9nothrow_t");
  find(n.new_plain_aligned, "_ZnwmSt11align_val_t");
  find(n.new_array_aligned, "_ZnamSt11align_val_t");
  next = n;
  looked_up.store(2, std::memory_order_release);
  return true;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(size_t size) noexcept {
  count(size);
  return ready() ? next.malloc(size) : boot_alloc(size);
}

__attribute__((visibility("default"))) void* calloc(size_t n, size_t size) noexcept {
  count(n * size);
  return ready() ? next.calloc(n, size) : boot_alloc(n * size);  // the buffer is zeroed
}

__attribute__((visibility("default"))) void free(void* p) noexcept {
  if (p == nullptr || in_boot(p)) return;
  if (ready()) next.free(p);
}

// realloc(p, 0) frees; only a call that asks for memory counts.
__attribute__((visibility("default"))) void* realloc(void* p, size_t size) noexcept {
  if (size != 0) count(size);
  if (!ready()) return boot_alloc(size);  // (no block is reallocated during the lookup)
  if (!in_boot(p)) return next.realloc(p, size);
  void* moved = next.malloc(size);  // a start-up block: copied out, as much as can be
  if (moved != nullptr) {
    const size_t left = static_cast<size_t>(boot + sizeof boot - static_cast<char*>(p));
    std::memcpy(moved, p, size < left ? size : left);
  }
  return moved;
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
  return ready() ? next.memalign(alignment, size) : boot_alloc(size, alignment);
}

__attribute__((visibility("default"))) void* aligned_alloc(size_t alignment, size_t size) noexcept {
  count(size);
  return ready() ? next.memalign(alignment, size) : boot_alloc(size, alignment);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (!valid_alignment(alignment)) return EINVAL;
  count(size);
  void* p = ready() ? next.memalign(alignment, size) : boot_alloc(size, alignment);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

__attribute__((visibility("default"))) void* valloc(size_t size) noexcept {
  count(size);
  return ready() ? next.valloc(size) : nullptr;
}

__attribute__((visibility("default"))) void* pvalloc(size_t size) noexcept {
  count(size);
  return ready() && next.pvalloc ? next.pvalloc(size) : nullptr;
}

}  // extern "C"

// operator new: counted, then the next definition's (jemalloc's or libstdc++'s). dlsym is C: no
// operator new runs inside the lookup, so one that finds it under way on another thread (at
// start-up) waits for it.
namespace {

template <class F, class... Args>
void* counted_new(F f, size_t size, Args... args) {
  count(size);
  while (!ready()) {
  }
  in_new = true;
  void* p = (next.*f)(size, args...);
  in_new = false;
  return p;
}

}  // namespace

__attribute__((visibility("default"))) void* operator new(size_t size) { return counted_new(&Next::new_plain, size); }
__attribute__((visibility("default"))) void* operator new[](size_t size) { return counted_new(&Next::new_array, size); }
__attribute__((visibility("default"))) void* operator new(size_t size, const std::nothrow_t& t) noexcept {
  return counted_new(&Next::new_plain_nothrow, size, t);
}
__attribute__((visibility("default"))) void* operator new[](size_t size, const std::nothrow_t& t) noexcept {
  return counted_new(&Next::new_array_nothrow, size, t);
}
__attribute__((visibility("default"))) void* operator new(size_t size, std::align_val_t a) {
  return counted_new(&Next::new_plain_aligned, size, a);
}
__attribute__((visibility("default"))) void* operator new[](size_t size, std::align_val_t a) {
  return counted_new(&Next::new_array_aligned, size, a);
}
