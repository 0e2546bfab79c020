#include "allocations.h"

#include <cstdlib>
#include <new>

namespace nnplug::test {
thread_local bool countAllocations = false;
std::atomic<long> allocations { 0 };
} // namespace nnplug::test

void* operator new (std::size_t size)
{
    if (nnplug::test::countAllocations) nnplug::test::allocations.fetch_add (1);
    if (void* p = std::malloc (size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[] (std::size_t size) { return operator new (size); }
void operator delete (void* p) noexcept { std::free (p); }
void operator delete[] (void* p) noexcept { std::free (p); }
void operator delete (void* p, std::size_t) noexcept { std::free (p); }
void operator delete[] (void* p, std::size_t) noexcept { std::free (p); }
