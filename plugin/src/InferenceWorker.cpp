#include "InferenceWorker.h"

#include <chrono>

namespace nnplug {

InferenceWorker::InferenceWorker (BlockFifo& f, BufferProcessor& processor, int inLanes, int outLanes, int n)
    : fifo (f), proc (processor), dropIn ((size_t) inLanes * (size_t) n, 0.0f)
{
    for (auto& s : slots)
    {
        s.in.assign ((size_t) inLanes * (size_t) n, 0.0f);
        s.out.assign ((size_t) outLanes * (size_t) n, 0.0f);
    }
    thread = std::thread ([this] { loop(); });
}

InferenceWorker::~InferenceWorker()
{
    stop.store (true);
    workSem.release();
    thread.join();
}

void InferenceWorker::loop()
{
    int idx = 0;
    for (;;)
    {
        workSem.acquire();
        if (stop.load())
            return;
        while (slots[idx].state.load (std::memory_order_acquire) == Queued)
        {
            Slot& s = slots[idx];
            bool ok = ! hasFailed.load (std::memory_order_acquire);
            if (ok && s.resetBefore)
                ok = proc.resetStream();
            if (ok)
                ok = proc.processBuffer (s.in.data(), s.out.data());
            s.state.store (ok ? Done : Failed, std::memory_order_release);
            doneSem.release();
            idx = (idx + 1) % kSlots;
        }
    }
}

void InferenceWorker::harvest() noexcept
{
    for (;;)
    {
        Slot& s = slots[harvestIdx];
        const int st = s.state.load (std::memory_order_acquire);
        if (st != Done && st != Failed)
            return;
        if (s.generation == generation)
        {
            for (int i = 0; i < s.zerosBefore; ++i)
                fifo.pushZeros();
            if (st == Done)
                fifo.push (s.out.data());
            else
            {
                hasFailed.store (true, std::memory_order_release);
                fifo.pushZeros();
            }
        }
        s.state.store (Free, std::memory_order_release);
        harvestIdx = (harvestIdx + 1) % kSlots;
    }
}

bool InferenceWorker::inFlight() const noexcept
{
    for (const auto& s : slots)
        if (s.state.load (std::memory_order_acquire) == Queued)
            return true;
    return false;
}

void InferenceWorker::waitUntilIdle() const noexcept
{
    // Polled: the done semaphore belongs to the audio thread. Bounded, so a model that hangs
    // cannot hang the host's reset() with it.
    for (int i = 0; i < 20000 && inFlight(); ++i)
        std::this_thread::sleep_for (std::chrono::microseconds (100));
}

float* InferenceWorker::nextInput (bool offline) noexcept
{
    Slot& s = slots[fillIdx];
    while (s.state.load (std::memory_order_acquire) != Free)
    {
        harvest();
        if (s.state.load (std::memory_order_acquire) == Free)
            break;
        if (! offline)
        {
            // The worker is a whole pipeline behind: never wait on the audio thread.
            overrunCount.fetch_add (1, std::memory_order_relaxed);
            dropping = true;
            return dropIn.data();
        }
        doneSem.acquire();
    }
    dropping = false;
    return s.in.data();
}

void InferenceWorker::submit() noexcept
{
    if (dropping)
    {
        ++pendingDropped;
        dropping = false;
        return;
    }
    Slot& s = slots[fillIdx];
    s.generation = generation;
    s.resetBefore = resetNext;
    s.zerosBefore = pendingDropped;
    pendingDropped = 0;
    resetNext = false;
    s.state.store (Queued, std::memory_order_release);
    workSem.release();
    fillIdx = (fillIdx + 1) % kSlots;
}

void InferenceWorker::collect (int wanted, bool offline) noexcept
{
    harvest();
    while (offline && fifo.queued() < wanted && inFlight())
    {
        doneSem.acquire();
        harvest();
    }
}

void InferenceWorker::restart() noexcept
{
    dropping = false;
    pendingDropped = 0;
    ++generation;
    resetNext = true;
}

} // namespace nnplug
