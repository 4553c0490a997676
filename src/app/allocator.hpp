#pragma once
// The `hydra` binary's allocator (jemalloc, when the build links it: not under the sanitizers).

namespace hydra::app {

// Has jemalloc hand memory back to the system from a thread of its own instead of inside the
// frees and allocations of the threads that call it. Left to those threads, the madvise() that
// returns pages runs in the middle of an event loop's turn, and on a machine of several cores
// it also interrupts every other core running the process to flush its TLB: at 9,900 streams
// the gateway's loops made about 400 such calls a second, up to 9.7 ms each (docs/PERFORMANCE.md,
// "Memory handed back"). Returns false, changing nothing, when jemalloc is not the allocator.
bool return_memory_in_background();

}  // namespace hydra::app
