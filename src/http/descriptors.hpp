#pragma once
// Running out of file descriptors (EMFILE, ENFILE): a thread whose accept or connect failed for
// want of one says so here, and every connection pool closes its idle connections and, for a
// while after the last shortage, keeps none (each holds a descriptor a client may need). Lock
// free: any thread may call these.
#include "http/types.hpp"

#include <chrono>
#include <cstdint>

namespace hydra::http {

// True when `ec` means the process (EMFILE) or the system (ENFILE) has no descriptor to give.
bool out_of_descriptors(const error_code& ec);

// Records a shortage now; the first of each spell is logged with the limit and what to do.
void descriptors_short();

// Whether the last shortage was within kShortageSpell of `now`: pools then keep no idle
// connection, and close those they have.
bool short_of_descriptors(std::chrono::steady_clock::time_point now);
inline constexpr std::chrono::seconds kShortageSpell{5};

// Raises this process's soft limit on open files to its hard limit (start-up; as nginx's
// worker_rlimit_nofile and Go's runtime do). Returns the soft limit in force afterwards.
uint64_t raise_descriptor_limit();

}  // namespace hydra::http
