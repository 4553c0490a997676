#include "http/descriptors.hpp"

#include <atomic>
#include <cerrno>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace hydra::http {

namespace {
std::atomic<int64_t> last_shortage_ns{0};  // steady clock; 0: never

int64_t ns_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

constexpr int64_t kSpellNs = std::chrono::nanoseconds(kShortageSpell).count();

uint64_t soft_limit() {
  rlimit r{};
  return ::getrlimit(RLIMIT_NOFILE, &r) == 0 ? static_cast<uint64_t>(r.rlim_cur) : 0;
}
}  // namespace

bool out_of_descriptors(const error_code& ec) {
  return ec && (ec == boost::system::errc::too_many_files_open ||
                ec == boost::system::errc::too_many_files_open_in_system);
}

void descriptors_short() {
  const auto now = std::chrono::steady_clock::now();
  const int64_t before = last_shortage_ns.exchange(ns_of(now), std::memory_order_relaxed);
  if (before == 0 || ns_of(now) - before > kSpellNs)
    spdlog::warn("out of file descriptors (the open-file limit is {}): idle connections to nodes are closed and "
                 "none kept for {} s; new clients wait until a descriptor is free. Raise the limit (ulimit -n, "
                 "LimitNOFILE= in the systemd unit) to serve more connections at once",
                 soft_limit(), kShortageSpell.count());
}

bool short_of_descriptors(std::chrono::steady_clock::time_point now) {
  const int64_t last = last_shortage_ns.load(std::memory_order_relaxed);
  return last != 0 && ns_of(now) - last < kSpellNs;
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
