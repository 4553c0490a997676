#pragma once
// File descriptors: the gateway holds two per relayed request (its client's connection and the
// node's), and keeps idle connections to nodes besides. Near the open-file limit an idle
// connection is a descriptor a client may need: the pools keep one only while more than a
// reserve is left (descriptors_to_spare()), the one idle longest making room for a newer one.
// The gateway's sockets are counted as they open and close; everything else it has open
// (listeners, event loops, files) is counted once, when first needed, and again whenever an
// accept or connect finds no descriptor (EMFILE, ENFILE). Lock free: any thread may call these.
#include "http/types.hpp"

#include <chrono>
#include <cstdint>

namespace hydra::http {

// True when `ec` means the process (EMFILE) or the system (ENFILE) has no descriptor to give.
bool out_of_descriptors(const error_code& ec);

// Records a shortage now: what is open besides the counted sockets is taken to fill the limit
// (everything is in use at that moment). The first of each spell (kShortageSpell) is logged
// with the limit and what to do.
void descriptors_short();
inline constexpr std::chrono::seconds kShortageSpell{5};

// A socket of the gateway's (a client connection, a connection to a node) opened or closed.
void socket_opened();
void socket_closed();

// Whether more than a reserve of descriptors (1/256 of the limit, 16 to 256) is left below the
// open-file limit, which is read again at most once a second (`now`: the caller's clock reading).
bool descriptors_to_spare(std::chrono::steady_clock::time_point now);

// Counts what is open besides the sockets again, from /proc (at most once a second): for a pool
// about to close a connection it cannot make room for. A shortage recorded while some sockets
// were uncounted (accepted, not yet a session) would otherwise leave the count too high for good,
// and the gateway would open a node connection for every request. Returns descriptors_to_spare().
bool recount_descriptors(std::chrono::steady_clock::time_point now);

// Raises this process's soft limit on open files to its hard limit (start-up; as nginx's
// worker_rlimit_nofile and Go's runtime do). Returns the soft limit in force afterwards.
uint64_t raise_descriptor_limit();

}  // namespace hydra::http
