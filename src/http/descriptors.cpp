#include "http/descriptors.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace hydra::http {

namespace {
std::atomic<int64_t> last_shortage_ns{0};  // steady clock; 0: never
std::atomic<int64_t> sockets{0};           // socket_opened() less socket_closed()
std::atomic<int64_t> others{-1};           // open besides the sockets; -1: not counted yet
std::atomic<int64_t> limit{0};             // the soft limit when last read; 0: unlimited or unknown
std::atomic<int64_t> limit_read_ns{0};
std::atomic<int64_t> others_read_ns{0};    // when recount_descriptors() last counted

int64_t ns_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

constexpr int64_t kSpellNs = std::chrono::nanoseconds(kShortageSpell).count();
constexpr int64_t kLimitReadNs = 1'000'000'000;

int64_t read_limit(int64_t now_ns) {
  rlimit r{};
  int64_t value = 0;
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY) value = static_cast<int64_t>(r.rlim_cur);
  limit.store(value, std::memory_order_relaxed);
  limit_read_ns.store(now_ns, std::memory_order_relaxed);
  return value;
}

// The descriptors this process has open, from /proc (0 when it cannot be read).
int64_t count_open() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  int64_t n = 0;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;  // the directory's own
}
}  // namespace

bool out_of_descriptors(const error_code& ec) {
  return ec && (ec == boost::system::errc::too_many_files_open ||
                ec == boost::system::errc::too_many_files_open_in_system);
}

void descriptors_short() {
  const int64_t now = ns_of(std::chrono::steady_clock::now());
  const int64_t at_limit = read_limit(now);
  if (at_limit > 0)
    others.store(std::max<int64_t>(0, at_limit - sockets.load(std::memory_order_relaxed)), std::memory_order_relaxed);
  const int64_t before = last_shortage_ns.exchange(now, std::memory_order_relaxed);
  if (before == 0 || now - before > kSpellNs)
    spdlog::warn("out of file descriptors (the open-file limit is {}): idle connections to nodes are closed, and "
                 "new clients wait until a descriptor is free. Raise the limit (ulimit -n, LimitNOFILE= in the "
                 "systemd unit) to serve more connections at once",
                 at_limit);
}

void socket_opened() { sockets.fetch_add(1, std::memory_order_relaxed); }
void socket_closed() { sockets.fetch_sub(1, std::memory_order_relaxed); }

bool descriptors_to_spare(std::chrono::steady_clock::time_point at) {
  const int64_t now = ns_of(at);
  int64_t cap = limit.load(std::memory_order_relaxed);
  if (now - limit_read_ns.load(std::memory_order_relaxed) > kLimitReadNs) cap = read_limit(now);
  if (cap <= 0) return true;
  const int64_t held = sockets.load(std::memory_order_relaxed);
  int64_t other = others.load(std::memory_order_relaxed);
  if (other < 0) {
    other = std::max<int64_t>(0, count_open() - held);
    others.store(other, std::memory_order_relaxed);
  }
  const int64_t reserve = std::clamp<int64_t>(cap / 256, 16, 256);
  return held + other + reserve < cap;
}

bool recount_descriptors(std::chrono::steady_clock::time_point at) {
  const int64_t now = ns_of(at);
  int64_t last = others_read_ns.load(std::memory_order_relaxed);
  if ((last == 0 || now - last > kLimitReadNs) &&
      others_read_ns.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    const int64_t open = count_open();
    if (open > 0)
      others.store(std::max<int64_t>(0, open - sockets.load(std::memory_order_relaxed)), std::memory_order_relaxed);
  }
  return descriptors_to_spare(at);
}

uint64_t raise_descriptor_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    rlimit raised = r;
    raised.rlim_cur = r.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return static_cast<uint64_t>(raised.rlim_cur);
  }
  return static_cast<uint64_t>(r.rlim_cur);
}

}  // namespace hydra::http
