#include "allocations.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
thread_local bool counting = false;
std::atomic<long> count { 0 };
} // namespace

namespace nnplug::test {
void countAllocations (bool on) { counting = on; }
long allocations() { return count.load(); }
void resetAllocations() { count = 0; }
} // namespace nnplug::test

void* operator new (std::size_t size)
{
    if (counting) count.fetch_add (1);
    if (void* p = std::malloc (size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[] (std::size_t size) { return operator new (size); }
void operator delete (void* p) noexcept { std::free (p); }
void operator delete[] (void* p) noexcept { std::free (p); }
void operator delete (void* p, std::size_t) noexcept { std::free (p); }
void operator delete[] (void* p, std::size_t) noexcept { std::free (p); }
