// Counts heap allocations (operator new, replaced in allocations.cpp) on the threads that
// ask for it, to prove the audio callback allocates nothing.
#pragma once

#include <atomic>

namespace nnplug::test {

extern thread_local bool countAllocations;
extern std::atomic<long> allocations;

} // namespace nnplug::test
