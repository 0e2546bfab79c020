// Counts heap allocations (operator new, replaced in allocations.cpp) on the threads that
// ask for it, to prove the audio callback allocates nothing. The thread-local switch stays
// inside allocations.cpp (UBSan mistakes an extern thread_local for a null pointer).
#pragma once

namespace nnplug::test {

// Counts this thread's allocations while on.
void countAllocations (bool on);
long allocations();
void resetAllocations();

} // namespace nnplug::test
